import { Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import type { Subscription as RxSubscription } from 'rxjs';
import type { Namespace, Socket } from 'socket.io';
import { AuthService } from '../auth/auth.service';
import { type ErrorBody, toErrorBody } from '../common/errors';
import type { Tenant } from '../database/entities';
import type { Subscription } from '../kernel/machine';
import { SessionEventBus, type SessionEvent } from '../sessions/session-events';
import { SessionsService } from '../sessions/sessions.service';
import { TerminalsService } from '../exec/terminals.service';
import { BATCH_SENDER, BoundedSender, DEFAULT_SENDER, type SenderConn } from './bounded-sender';

interface SubscribeMsg {
  sessionId?: unknown;
  stream?: unknown;
  fromSeq?: unknown;
  /** terminal stream: re-attach to this terminal (omitted: open a new one) */
  terminalId?: unknown;
  cols?: unknown;
  rows?: unknown;
  /** unsubscribe from a terminal: also hang it up */
  close?: unknown;
  /** machine streams: deliver bursts as `batch` messages {sessionId, stream, events: [{seq, data}]} */
  batch?: unknown;
}

interface TerminalMsg {
  sessionId?: unknown;
  terminalId?: unknown;
  data?: unknown;
  cols?: unknown;
  rows?: unknown;
}

export type Ack =
  | { ok: true; stream: string; sessionId: string; startSeq?: number; missed?: number; terminalId?: string }
  | { ok: false; error: ErrorBody };

/** most characters one `stdin` message may carry */
export const MAX_STDIN_MESSAGE = 64 * 1024;
const TERMINAL_ID = /^[0-9a-f-]{36}$/;

interface Sub {
  close(): void;
}

interface SocketData {
  tenant: Tenant;
  subs: Map<string, Sub>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const err = (statusCode: number, code: string, message: string): Ack => ({
  ok: false,
  error: { statusCode, error: statusCode === 404 ? 'Not Found' : statusCode === 401 ? 'Unauthorized' : 'Bad Request', message, code },
});

/**
 * socket.io gateway on namespace /v1. It only authenticates (handshake
 * auth.token = tenant key), joins the session's room and forwards typed
 * events: `subscribe` {sessionId, stream, fromSeq?} / `unsubscribe` with acks
 * whose errors have the REST error shape and codes.
 */
@WebSocketGateway({ namespace: '/v1', cors: { origin: true } })
export class StreamGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnModuleDestroy {
  @WebSocketServer() server!: Namespace;
  private readonly log = new Logger('Gateway');
  private replaced?: RxSubscription;

  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly bus: SessionEventBus,
    private readonly terminals: TerminalsService,
  ) {}

  afterInit(ns: Namespace): void {
    ns.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      if (typeof token !== 'string' || !token) {
        next(Object.assign(new Error('UNAUTHORIZED'), { data: { statusCode: 401, error: 'Unauthorized', message: 'missing auth.token', code: 'UNAUTHORIZED' } }));
        return;
      }
      this.auth
        .tenantForKey(token)
        .then((tenant) => {
          if (!tenant) {
            next(Object.assign(new Error('UNAUTHORIZED'), { data: { statusCode: 401, error: 'Unauthorized', message: 'invalid or revoked API key', code: 'UNAUTHORIZED' } }));
            return;
          }
          (socket.data as SocketData).tenant = tenant;
          (socket.data as SocketData).subs = new Map();
          next();
        })
        .catch((e: unknown) => next(Object.assign(new Error('INTERNAL'), { data: toErrorBody(e) })));
    });
  }

  handleConnection(): void {
    // authentication happened in the namespace middleware
  }

  handleDisconnect(socket: Socket): void {
    const d = socket.data as SocketData;
    for (const s of d.subs?.values() ?? []) s.close();
    d.subs?.clear();
  }

  onModuleDestroy(): void {
    this.replaced?.unsubscribe();
  }

  @SubscribeMessage('subscribe')
  async subscribe(@ConnectedSocket() socket: Socket, @MessageBody() msg: SubscribeMsg): Promise<Ack> {
    const d = socket.data as SocketData;
    if (!msg || typeof msg !== 'object') return err(400, 'VALIDATION_FAILED', 'subscribe needs {sessionId, stream, fromSeq?}');
    const { sessionId, stream, fromSeq } = msg;
    if (typeof stream !== 'string' || !/^[a-z_-]{1,32}$/.test(stream)) return err(400, 'VALIDATION_FAILED', 'stream must be a stream name');
    if (fromSeq !== undefined && (typeof fromSeq !== 'number' || !Number.isInteger(fromSeq) || fromSeq < 0)) {
      return err(400, 'VALIDATION_FAILED', 'fromSeq must be a non-negative integer');
    }
    if (typeof sessionId !== 'string' || !UUID.test(sessionId) || !(await this.sessions.owns(d.tenant.id, sessionId))) {
      return err(404, 'NOT_FOUND', 'session not found');
    }
    if (stream === 'terminal') return this.subscribeTerminal(socket, d, sessionId, msg);
    if (stream === 'bpftrace') {
      // one run's output: {stream: 'stdout'|'stderr', text} events, then {exit}
      const runId = (msg as { runId?: unknown }).runId;
      if (typeof runId !== 'string' || !/^bt-\d{1,9}$/.test(runId)) return err(400, 'VALIDATION_FAILED', 'the bpftrace stream needs runId (from POST …/bpftrace/runs)');
      const key = `${sessionId}:bpftrace:${runId}`;
      d.subs.get(key)?.close();
      try {
        await socket.join(`session:${sessionId}`);
        const sub = await this.machineStream(socket, d.tenant, sessionId, `bpftrace:${runId}`, fromSeq as number | undefined, (ev) =>
          socket.emit('event', { sessionId, stream: 'bpftrace', runId, seq: ev.seq, data: ev.data }),
        );
        d.subs.set(key, sub.handle);
        return { ok: true, stream, sessionId, startSeq: sub.startSeq, missed: sub.missed };
      } catch (e) {
        return { ok: false, error: toErrorBody(e) };
      }
    }
    const key = `${sessionId}:${stream}`;
    d.subs.get(key)?.close();
    d.subs.delete(key);
    try {
      await socket.join(`session:${sessionId}`);
      if (stream === 'session') {
        const sub = await this.sessionStream(socket, sessionId, fromSeq as number | undefined);
        d.subs.set(key, sub);
        return { ok: true, stream, sessionId };
      }
      const sub = await this.machineStream(socket, d.tenant, sessionId, stream, fromSeq as number | undefined, undefined, msg.batch === true);
      d.subs.set(key, sub.handle);
      return { ok: true, stream, sessionId, startSeq: sub.startSeq, missed: sub.missed };
    } catch (e) {
      return { ok: false, error: toErrorBody(e) };
    }
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() msg: SubscribeMsg): Ack {
    const d = socket.data as SocketData;
    if (!msg || typeof msg.sessionId !== 'string' || typeof msg.stream !== 'string') return err(400, 'VALIDATION_FAILED', 'unsubscribe needs {sessionId, stream}');
    const key =
      msg.stream === 'terminal'
        ? `${msg.sessionId}:terminal:${String(msg.terminalId)}`
        : msg.stream === 'bpftrace'
          ? `${msg.sessionId}:bpftrace:${String((msg as { runId?: unknown }).runId)}`
          : `${msg.sessionId}:${msg.stream}`;
    const sub = d.subs.get(key);
    if (!sub) return err(404, 'NOT_FOUND', 'no such subscription');
    sub.close();
    d.subs.delete(key);
    if (msg.stream === 'terminal' && msg.close === true) {
      this.terminals.close(d.tenant, msg.sessionId, String(msg.terminalId)).catch((e: unknown) => this.log.debug(`terminal close: ${String(e)}`));
    }
    if (![...d.subs.keys()].some((k) => k.startsWith(`${msg.sessionId}:`))) void socket.leave(`session:${msg.sessionId}`);
    return { ok: true, stream: msg.stream, sessionId: msg.sessionId };
  }

  /**
   * The `terminal` stream: an interactive shell. Subscribing opens a new
   * terminal (or re-attaches to `terminalId`, resuming output from `fromSeq`);
   * output arrives as `stdout` {sessionId, terminalId, seq, data} and, when the
   * shell ends, `exit` {sessionId, terminalId, seq, code}; the client sends
   * `stdin` {sessionId, terminalId, data} and `resize` {sessionId, terminalId, cols, rows}.
   */
  private async subscribeTerminal(socket: Socket, d: SocketData, sessionId: string, msg: SubscribeMsg): Promise<Ack> {
    const { terminalId, cols, rows, fromSeq } = msg;
    if (terminalId !== undefined && (typeof terminalId !== 'string' || !TERMINAL_ID.test(terminalId))) return err(400, 'VALIDATION_FAILED', 'terminalId must be a terminal id');
    for (const [name, v] of [['cols', cols], ['rows', rows]] as const) {
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1000)) return err(400, 'VALIDATION_FAILED', `${name} must be an integer from 1 to 1000`);
    }
    try {
      const id = terminalId ?? (await this.terminals.open(d.tenant, sessionId, (cols as number | undefined) ?? 80, (rows as number | undefined) ?? 24));
      const key = `${sessionId}:terminal:${id}`;
      d.subs.get(key)?.close();
      await socket.join(`session:${sessionId}`);
      const from = (fromSeq as number | undefined) ?? (terminalId === undefined ? 1 : undefined);
      const sub = await this.machineStream(socket, d.tenant, sessionId, `terminal:${id}`, from, (ev) => {
        const data = ev.data as { channel: string; data?: string; code?: number };
        if (data.channel === 'exit') socket.emit('exit', { sessionId, terminalId: id, seq: ev.seq, code: data.code });
        else socket.emit('stdout', { sessionId, terminalId: id, seq: ev.seq, data: data.data });
      });
      const detach = this.terminals.attach(d.tenant, sessionId, id);
      d.subs.set(key, {
        close: () => {
          sub.handle.close();
          detach();
        },
      });
      if (terminalId !== undefined && (cols !== undefined || rows !== undefined)) {
        await this.terminals.resize(d.tenant, sessionId, id, (cols as number | undefined) ?? 80, (rows as number | undefined) ?? 24);
      }
      return { ok: true, stream: 'terminal', sessionId, terminalId: id, startSeq: sub.startSeq, missed: sub.missed };
    } catch (e) {
      return { ok: false, error: toErrorBody(e) };
    }
  }

  private async terminalTarget(d: SocketData, msg: TerminalMsg): Promise<{ sessionId: string; terminalId: string } | Ack> {
    if (!msg || typeof msg !== 'object') return err(400, 'VALIDATION_FAILED', 'expected {sessionId, terminalId, ...}');
    const { sessionId, terminalId } = msg;
    if (typeof terminalId !== 'string' || !TERMINAL_ID.test(terminalId)) return err(400, 'VALIDATION_FAILED', 'terminalId must be a terminal id');
    if (typeof sessionId !== 'string' || !UUID.test(sessionId) || !(await this.sessions.owns(d.tenant.id, sessionId))) {
      return err(404, 'NOT_FOUND', 'session not found');
    }
    return { sessionId, terminalId };
  }

  @SubscribeMessage('stdin')
  async stdin(@ConnectedSocket() socket: Socket, @MessageBody() msg: TerminalMsg): Promise<{ ok: true } | Ack> {
    const d = socket.data as SocketData;
    const t = await this.terminalTarget(d, msg);
    if ('ok' in t) return t;
    if (typeof msg.data !== 'string') return err(400, 'VALIDATION_FAILED', 'data must be a string');
    if (msg.data.length > MAX_STDIN_MESSAGE) return err(400, 'VALIDATION_FAILED', `data must be at most ${MAX_STDIN_MESSAGE} characters per message`);
    try {
      await this.terminals.input(d.tenant, t.sessionId, t.terminalId, msg.data);
      return { ok: true };
    } catch (e) {
      return { ok: false, error: toErrorBody(e) };
    }
  }

  @SubscribeMessage('resize')
  async resize(@ConnectedSocket() socket: Socket, @MessageBody() msg: TerminalMsg): Promise<{ ok: true } | Ack> {
    const d = socket.data as SocketData;
    const t = await this.terminalTarget(d, msg);
    if ('ok' in t) return t;
    const { cols, rows } = msg;
    if (typeof cols !== 'number' || typeof rows !== 'number') return err(400, 'VALIDATION_FAILED', 'cols and rows must be integers from 1 to 1000');
    try {
      await this.terminals.resize(d.tenant, t.sessionId, t.terminalId, cols, rows);
      return { ok: true };
    } catch (e) {
      return { ok: false, error: toErrorBody(e) };
    }
  }

  /** Lifecycle events: backlog from the database, then live, without duplicates. */
  private async sessionStream(socket: Socket, sessionId: string, fromSeq?: number): Promise<Sub> {
    let last = -1;
    let buffering = true;
    const pending: SessionEvent[] = [];
    const send = (e: SessionEvent): void => {
      if (e.seq <= last) return;
      last = e.seq;
      socket.emit('event', { sessionId, stream: 'session', seq: e.seq, type: e.type, data: e.data, at: e.at });
    };
    const rx = this.bus.events$.subscribe((e) => {
      if (e.sessionId !== sessionId) return;
      if (buffering) pending.push(e);
      else send(e);
    });
    if (fromSeq !== undefined) for (const e of await this.sessions.eventsSince(sessionId, fromSeq)) send(e);
    buffering = false;
    pending.sort((a, b) => a.seq - b.seq).forEach(send);
    return { close: () => rx.unsubscribe() };
  }

  /** A machine stream (dmesg, ...): resumable by seq, re-attached when the machine is restored. */
  private async machineStream(
    socket: Socket,
    tenant: Tenant,
    sessionId: string,
    stream: string,
    fromSeq?: number,
    emit: (ev: { seq: number; data: unknown }) => void = (ev) => socket.emit('event', { sessionId, stream, seq: ev.seq, data: ev.data }),
    batch = false,
  ): Promise<{ handle: Sub; startSeq: number; missed: number }> {
    let next = fromSeq;
    let current: Subscription | undefined;
    const sender = new BoundedSender<{ seq: number; data: unknown }>(
      socket.conn as unknown as SenderConn,
      emit,
      (report) => socket.emit('dropped', report),
      { sessionId, stream },
      batch ? BATCH_SENDER : DEFAULT_SENDER,
      batch ? { emitBatch: (events) => socket.emit('batch', { sessionId, stream, events }), defer: (fn) => setImmediate(fn), batchMax: BATCH_SENDER.batchMax } : undefined,
    );
    const attach = async (from?: number): Promise<Subscription> => {
      const m = await this.sessions.machine(tenant, sessionId);
      return m.subscribe(stream, { fromSeq: from }, (ev) => {
        next = ev.seq + 1;
        sender.push({ seq: ev.seq, data: ev.data });
      });
    };
    current = await attach(next);
    const first = current;
    const rx = this.bus.machineReplaced$.subscribe((id) => {
      if (id !== sessionId) return;
      current?.close();
      attach(next)
        .then((s) => (current = s))
        .catch((e: unknown) => this.log.warn(`re-attach of ${stream} failed: ${String(e)}`));
    });
    return {
      handle: {
        close: () => {
          rx.unsubscribe();
          current?.close();
          sender.close();
        },
      },
      startSeq: first.startSeq,
      missed: first.missed,
    };
  }
}
