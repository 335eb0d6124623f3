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
import { BoundedSender, type SenderConn } from './bounded-sender';

interface SubscribeMsg {
  sessionId?: unknown;
  stream?: unknown;
  fromSeq?: unknown;
}

export type Ack = { ok: true; stream: string; sessionId: string; startSeq?: number; missed?: number } | { ok: false; error: ErrorBody };

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
      const sub = await this.machineStream(socket, d.tenant, sessionId, stream, fromSeq as number | undefined);
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
    const key = `${msg.sessionId}:${msg.stream}`;
    const sub = d.subs.get(key);
    if (!sub) return err(404, 'NOT_FOUND', 'no such subscription');
    sub.close();
    d.subs.delete(key);
    if (![...d.subs.keys()].some((k) => k.startsWith(`${msg.sessionId}:`))) void socket.leave(`session:${msg.sessionId}`);
    return { ok: true, stream: msg.stream, sessionId: msg.sessionId };
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
  ): Promise<{ handle: Sub; startSeq: number; missed: number }> {
    let next = fromSeq;
    let current: Subscription | undefined;
    const sender = new BoundedSender<{ seq: number; data: unknown }>(
      socket.conn as unknown as SenderConn,
      (ev) => socket.emit('event', { sessionId, stream, seq: ev.seq, data: ev.data }),
      (report) => socket.emit('dropped', report),
      { sessionId, stream },
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
