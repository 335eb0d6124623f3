import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { Mutex } from 'async-mutex';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource, In, LessThanOrEqual, MoreThan, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { ApiError, notFound } from '../common/errors';
import { ENV_CONFIG, type EnvConfig } from '../config/configuration';
import { JournalRow, SessionEventRow, SessionRow, SnapshotRow, type Tenant } from '../database/entities';
import { LIVE_STATES, type SessionState } from '../database/entities/session.entity';
import type { Machine, MachineOp, MachineSpec, OpResult } from '../kernel/machine';
import { KERNEL_RELEASE } from '../kernel/types';
import { DriverRegistry } from '../machines/drivers';
import { CheckpointStore, type StoredCheckpoint } from './checkpoint-store';
import { SessionEventBus, type SessionEvent } from './session-events';
import type { CreateSessionDto, ListSessionsQuery, SessionPage, SessionView, SnapshotView } from './sessions.dto';

interface Live {
  /** the booted machine; absent until first used when it can be re-created from its genesis */
  machine?: Machine;
  /** how to boot it: a deterministic driver's spec and boot time */
  genesis?: { driver: string; spec: MachineSpec; atWallMs: number };
  booting?: Promise<Machine>;
  tenantId: string;
  lock: Mutex;
  /** last journal seq */
  seq: number;
  sinceCheckpoint: number;
  lastTouchMs: number;
  /** the machine state last stored on the row (running, crashed, stopped) */
  machineState?: string;
  /** what the store holds of its checkpoint (blob keys); unknown until first needed */
  stored?: StoredCheckpoint;
  /** checkpoint writes in flight, one after another */
  writing?: Promise<void>;
  /** wall time of the last checkpoint taken by this process (or of when the process took the session on) */
  checkpointAtMs: number;
  /** the state reflections in flight, one after another */
  reflecting?: Promise<void>;
}

const TOUCH_EVERY_MS = 15_000;

/**
 * Sessions and their machines. Durability: each session row holds a
 * checkpoint (driver snapshot) and the journal holds every mutating op since
 * it, written before the client is answered; start-up restores every live
 * session from checkpoint + journal.
 */
@Injectable()
export class SessionsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Sessions');
  private readonly live = new Map<string, Live>();
  private readonly tenantLocks = new Map<string, Mutex>();
  private readonly warned = new Set<string>();
  private shuttingDown = false;

  constructor(
    @Inject(ENV_CONFIG) private readonly cfg: EnvConfig,
    @Inject(Clock) private readonly clock: Clock,
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(SessionRow) private readonly sessions: Repository<SessionRow>,
    @InjectRepository(JournalRow) private readonly journal: Repository<JournalRow>,
    @InjectRepository(SnapshotRow) private readonly snapshots: Repository<SnapshotRow>,
    @InjectRepository(SessionEventRow) private readonly eventRows: Repository<SessionEventRow>,
    private readonly drivers: DriverRegistry,
    private readonly bus: SessionEventBus,
    private readonly store: CheckpointStore,
  ) {}

  // ------------------------------------------------------------ lifecycle

  async onApplicationBootstrap(): Promise<void> {
    await this.restoreAll();
  }

  /** Graceful shutdown: checkpoint every live machine so start-up needs no replay. */
  async onApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const [id, l] of this.live) {
      if (!l.machine) continue; // never booted: its genesis and journal are its durable state
      try {
        if (l.sinceCheckpoint > 0) await l.lock.runExclusive(() => this.checkpoint(id, l, true));
        await l.writing;
      } catch (e) {
        this.log.warn(`checkpoint of ${id} at shutdown failed: ${String(e)}`);
      }
      await l.machine.destroy().catch(() => undefined);
    }
    this.live.clear();
  }

  /** Restores every live session from its checkpoint and journal. */
  async restoreAll(): Promise<{ restored: number; failed: number }> {
    const rows = await this.sessions.find({ where: { state: In(LIVE_STATES) }, select: { id: true } });
    let restored = 0;
    let failed = 0;
    for (const { id } of rows) {
      try {
        await this.restoreOne(id);
        restored++;
      } catch (e) {
        failed++;
        this.log.error(`session ${id} could not be restored: ${String(e)}`);
        await this.sessions.update({ id }, { state: 'crashed', stateReason: `restore failed: ${String(e)}` });
      }
    }
    if (rows.length) this.log.log(`restored ${restored} session(s), ${failed} failed`);
    return { restored, failed };
  }

  private async restoreOne(id: string): Promise<void> {
    const row = await this.sessions.createQueryBuilder('s').addSelect('s.checkpoint').where('s.id = :id', { id }).getOneOrFail();
    const driver = this.drivers.get(row.driver);
    const entries = await this.journal.find({ where: { sessionId: id, seq: MoreThan(row.checkpointSeq) }, order: { seq: 'ASC' } });
    const seq = entries.length ? entries[entries.length - 1].seq : row.checkpointSeq;
    const base = {
      tenantId: row.tenantId,
      lock: new Mutex(),
      seq,
      sinceCheckpoint: entries.length,
      lastTouchMs: 0,
      checkpointAtMs: this.clock.now(),
    };
    const spec: MachineSpec = {
      cpus: row.cpus,
      memoryMb: row.memoryMb,
      seed: row.seed,
      hostname: row.hostname,
      clock: row.clock as MachineSpec['clock'],
    };
    if (row.kernelConfig) spec.kernelConfig = row.kernelConfig;
    if (!row.checkpoint && entries.length === 0 && driver.deterministic) {
      // untouched since it was created: it boots on first use, exactly as it would have
      this.live.set(id, { ...base, genesis: { driver: row.driver, spec, atWallMs: row.createdAt.getTime() } });
      return;
    }
    let machine: Machine;
    let stored: StoredCheckpoint | undefined;
    if (row.checkpoint) {
      const cp = await this.store.load(id);
      stored = cp.stored;
      machine = await driver.fromSnapshot(new Uint8Array(row.checkpoint), cp.blobs);
    } else if (driver.deterministic)
      machine = await driver.boot(spec, row.createdAt.getTime()); // boot it again exactly as it was booted
    else throw new Error('no checkpoint');
    await machine.replay(entries.map((e) => ({ vtimeNs: e.vtimeNs, op: e.op as MachineOp })));
    this.live.set(id, { ...base, machine, stored });
  }

  // ------------------------------------------------------------ queries

  private async owned(tenant: Tenant, id: string): Promise<SessionRow> {
    const row = await this.sessions.findOne({ where: { id, tenantId: tenant.id } });
    if (!row) throw notFound();
    return row;
  }

  /** Whether the tenant owns the session (any state). Used by the access guard. */
  async owns(tenantId: string, id: string): Promise<boolean> {
    const l = this.live.get(id);
    if (l) return l.tenantId === tenantId;
    return this.sessions.exist({ where: { id, tenantId } });
  }

  async get(tenant: Tenant, id: string): Promise<SessionView> {
    // a realtime machine may have crashed or rebooted by itself (kernel.panic=N) since the last op
    const l = this.live.get(id);
    if (l?.machine && l.tenantId === tenant.id) await l.machine.sync().then(() => this.reflectMachineState(id, l));
    return view(await this.owned(tenant, id));
  }

  async list(tenant: Tenant, q: ListSessionsQuery): Promise<SessionPage> {
    const limit = q.limit ?? 20;
    const offset = q.offset ?? 0;
    const qb = this.sessions.createQueryBuilder('s').where('s.tenant_id = :t', { t: tenant.id });
    if (q.state) qb.andWhere('s.state = :state', { state: q.state });
    else qb.andWhere("s.state <> 'deleted'");
    (q.label ?? []).forEach((l, i) => {
      const eq = l.indexOf('=');
      qb.andWhere(`s.labels ->> :lk${i} = :lv${i}`, { [`lk${i}`]: l.slice(0, eq), [`lv${i}`]: l.slice(eq + 1) });
    });
    const [rows, total] = await qb.orderBy('s.created_at', 'DESC').addOrderBy('s.id', 'ASC').skip(offset).take(limit).getManyAndCount();
    return { items: rows.map(view), total, limit, offset };
  }

  // ------------------------------------------------------------ create / update / delete

  private tenantLock(tenantId: string): Mutex {
    let m = this.tenantLocks.get(tenantId);
    if (!m) {
      m = new Mutex();
      this.tenantLocks.set(tenantId, m);
    }
    return m;
  }

  async create(tenant: Tenant, dto: CreateSessionDto): Promise<SessionView> {
    const driverName = dto.driver ?? 'sim';
    const driver = this.drivers.get(driverName);
    const ttl = dto.ttlSeconds ?? Math.min(this.cfg.KERNELAB_DEFAULT_TTL_SECONDS, tenant.limits.maxTtlSeconds);
    this.checkTtl(tenant, ttl);
    return this.tenantLock(tenant.id).runExclusive(async () => {
      const liveCount = await this.liveCount(tenant.id);
      if (liveCount >= tenant.limits.maxSessions) {
        throw new ApiError(
          429,
          'SESSION_QUOTA_EXCEEDED',
          `tenant has ${liveCount} live sessions, its limit is ${tenant.limits.maxSessions}`,
        );
      }
      let machine: Machine | undefined;
      let spec: MachineSpec;
      if (dto.fromSnapshot) {
        const snap = await this.store.loadImage(dto.fromSnapshot, tenant.id);
        if (!snap) throw notFound('snapshot');
        machine = await this.drivers.get(snap.driver).fromSnapshot(snap.bytes);
        const info = await machine.info();
        const source = await this.sessions.findOne({ where: { id: snap.sessionId } });
        spec = {
          cpus: info.cpus,
          memoryMb: info.memoryMb,
          seed: source?.seed ?? '',
          hostname: source?.hostname ?? 'kernelab',
          clock: info.clock,
        };
        if (source?.kernelConfig) spec.kernelConfig = source.kernelConfig;
        if (dto.seed !== undefined || dto.hostname !== undefined || dto.clock !== undefined || dto.kernelConfig !== undefined) {
          throw new ApiError(400, 'SNAPSHOT_MISMATCH', 'seed, hostname, clock and kernelConfig of a clone come from its snapshot');
        }
        if ((dto.cpus !== undefined && dto.cpus !== info.cpus) || (dto.memoryMb !== undefined && dto.memoryMb !== info.memoryMb)) {
          throw new ApiError(400, 'SNAPSHOT_MISMATCH', 'cpus and memoryMb of a clone come from its snapshot');
        }
      } else {
        spec = {
          cpus: dto.cpus ?? 2,
          memoryMb: dto.memoryMb ?? 2048,
          seed: dto.seed ?? randomBytes(8).toString('hex'),
          hostname: dto.hostname ?? 'kernelab',
          clock: dto.clock ?? 'realtime',
        };
        if (dto.kernelConfig) spec.kernelConfig = { ...dto.kernelConfig };
      }
      const now = this.clock.now();
      // A deterministic driver needs no boot checkpoint: spec + boot time (created_at) + journal reproduce the
      // machine, so it boots on first use (a session nobody touches costs a row, not a machine).
      const lazy = !dto.fromSnapshot && driver.deterministic;
      if (!dto.fromSnapshot && !lazy) machine = await driver.boot(spec, now);
      const id = randomUUID();
      const row = this.sessions.create({
        id,
        tenantId: tenant.id,
        driver: machine?.driver ?? driverName,
        state: 'running',
        kernelRelease: KERNEL_RELEASE,
        cpus: spec.cpus,
        memoryMb: spec.memoryMb,
        seed: spec.seed,
        clock: spec.clock,
        hostname: spec.hostname,
        labels: dto.labels ?? {},
        createdAt: new Date(now),
        expiresAt: new Date(now + ttl * 1000),
        lastActiveAt: new Date(now),
        deletedAt: null,
        stateReason: dto.fromSnapshot ? `cloned from snapshot ${dto.fromSnapshot}` : null,
        kernelConfig: spec.kernelConfig ?? null,
        checkpoint: null,
        checkpointSeq: 0,
        eventSeq: 0,
      });
      // one round trip: the row and its first lifecycle event
      const first = { state: 'running', previous: 'provisioning' };
      const insert = (q: (sql: string, params: unknown[]) => Promise<unknown>, head: string | null): Promise<unknown> =>
        q(
          `WITH s AS (
           INSERT INTO sessions (id, tenant_id, driver, state, kernel_release, cpus, memory_mb, seed, clock, hostname, labels,
                                 created_at, expires_at, last_active_at, state_reason, checkpoint, checkpoint_seq, event_seq, kernel_config)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $12, $14, decode($15, 'base64'), 0, 1, $17) RETURNING id)
         INSERT INTO session_events (session_id, seq, type, data, created_at) SELECT id, 1, 'state', $16, $12 FROM s`,
          [
            id,
            tenant.id,
            row.driver,
            row.state,
            row.kernelRelease,
            row.cpus,
            row.memoryMb,
            row.seed,
            row.clock,
            row.hostname,
            JSON.stringify(row.labels),
            row.createdAt,
            row.expiresAt,
            row.stateReason,
            head,
            JSON.stringify(first),
            row.kernelConfig ? JSON.stringify(row.kernelConfig) : null,
          ],
        );
      // a machine that exists already (a clone; a non-deterministic driver) starts from a checkpoint of it
      let stored: StoredCheckpoint | undefined;
      if (lazy) await insert((sql, params) => this.db.query(sql, params), null);
      else
        stored = await this.store.create(id, await machine!.checkpoint(), async (m, head) => {
          await insert((sql, params) => m.query(sql, params), head);
        });
      this.live.set(id, {
        machine,
        genesis: lazy ? { driver: driverName, spec, atWallMs: now } : undefined,
        tenantId: tenant.id,
        lock: new Mutex(),
        seq: 0,
        sinceCheckpoint: 0,
        lastTouchMs: now,
        checkpointAtMs: now,
        stored,
      });
      this.bus.events$.next({ sessionId: id, tenantId: tenant.id, seq: 1, type: 'state', data: first, at: row.createdAt.toISOString() });
      return view(row);
    });
  }

  private checkTtl(tenant: Tenant, ttl: number): void {
    if (ttl > tenant.limits.maxTtlSeconds) {
      throw new ApiError(400, 'TTL_TOO_LONG', `ttlSeconds ${ttl} exceeds this tenant's ceiling of ${tenant.limits.maxTtlSeconds}`);
    }
  }

  async extend(tenant: Tenant, id: string, ttlSeconds: number): Promise<SessionView> {
    const row = await this.owned(tenant, id);
    this.assertLive(row);
    this.checkTtl(tenant, ttlSeconds);
    row.expiresAt = new Date(this.clock.now() + ttlSeconds * 1000);
    await this.sessions.update({ id }, { expiresAt: row.expiresAt });
    this.warned.delete(id);
    await this.event(row, 'updated', { expiresAt: row.expiresAt.toISOString() });
    return view(row);
  }

  async remove(tenant: Tenant, id: string): Promise<void> {
    const row = await this.owned(tenant, id);
    if (row.state === 'deleted') throw notFound();
    await this.destroy(row, 'deleted by client');
  }

  /** Destroys the machine and keeps the row as `deleted`. */
  private async destroy(row: SessionRow, reason: string): Promise<void> {
    const l = this.live.get(row.id);
    const doIt = async (): Promise<void> => {
      this.live.delete(row.id);
      await l?.machine?.destroy().catch(() => undefined);
      const previous = row.state;
      row.state = 'deleted';
      row.stateReason = reason;
      row.deletedAt = new Date(this.clock.now());
      await l?.writing;
      await this.sessions.update({ id: row.id }, { state: 'deleted', stateReason: reason, deletedAt: row.deletedAt, checkpoint: null });
      await this.store.drop(row.id);
      await this.journal.delete({ sessionId: row.id });
      await this.event(row, 'state', { state: 'deleted', previous, reason });
    };
    if (l) await l.lock.runExclusive(doIt);
    else await doIt();
    this.warned.delete(row.id);
  }

  private assertLive(row: SessionRow): void {
    if (row.state === 'deleted') throw new ApiError(409, 'SESSION_DELETED', 'session is deleted');
  }

  // ------------------------------------------------------------ machine access

  /** The live machine of a session the tenant owns (404 otherwise). */
  async machine(tenant: Tenant, id: string): Promise<Machine> {
    const l = this.live.get(id);
    if (!l || l.tenantId !== tenant.id) {
      const row = await this.owned(tenant, id);
      this.assertLive(row);
      throw new ApiError(409, 'MACHINE_UNAVAILABLE', `session is ${row.state}`);
    }
    this.touch(id, l);
    return this.ensure(l);
  }

  /** The session's machine, booting it from its genesis on first use. */
  private ensure(l: Live): Promise<Machine> {
    if (l.machine) return Promise.resolve(l.machine);
    if (!l.booting) {
      const g = l.genesis as NonNullable<Live['genesis']>;
      l.booting = this.drivers
        .get(g.driver)
        .boot(g.spec, g.atWallMs)
        .then((m) => (l.machine = m))
        .finally(() => (l.booting = undefined));
    }
    return l.booting;
  }

  /**
   * Applies a mutating op: runs it on the machine, then journals it before the
   * client is answered. Ops on one session are serialised.
   */
  async apply(tenant: Tenant, id: string, op: MachineOp): Promise<OpResult> {
    await this.machine(tenant, id);
    const l = this.live.get(id) as Live;
    return l.lock.runExclusive(async () => {
      if (this.live.get(id) !== l) throw notFound();
      const r = await (await this.ensure(l)).apply(op);
      const seq = l.seq + 1;
      try {
        await this.journal.insert({ sessionId: id, seq, vtimeNs: r.vtimeNs, op: op as unknown as object });
      } catch (e) {
        // the machine ran an op that is not durable: go back to the durable state
        this.log.error(`journal write for ${id} failed: ${String(e)}`);
        await this.restoreOne(id).catch(() => this.live.delete(id));
        throw new ApiError(503, 'PERSISTENCE_FAILED', 'the operation could not be stored; it was rolled back');
      }
      l.seq = seq;
      if (this.checkpointDue(l)) await this.checkpoint(id, l);
      await this.reflectMachineState(id, l);
      return r;
    });
  }

  /**
   * A machine that panicked makes its session `crashed` (and a reboot makes it
   * `running` again): the row and the session stream follow the machine.
   */
  private reflectMachineState(id: string, l: Live): Promise<void> {
    const next = (l.reflecting ?? Promise.resolve()).then(() => this.reflectNow(id, l));
    l.reflecting = next.catch(() => undefined);
    return next;
  }

  private async reflectNow(id: string, l: Live): Promise<void> {
    if (!l.machine) return;
    const info = await l.machine.info();
    const state = info.state === 'crashed' ? 'crashed' : info.state === 'stopped' ? 'stopped' : 'running';
    if (l.machineState === undefined) {
      const row = await this.sessions.findOne({ where: { id }, select: { id: true, state: true } });
      l.machineState = row?.state ?? 'running';
    }
    if (state === l.machineState) return;
    const row = await this.sessions.findOne({ where: { id } });
    if (!row || row.state === 'deleted') return;
    const previous = row.state;
    const reason =
      state === 'crashed' ? (info.stateReason ?? 'kernel panic') : state === 'stopped' ? 'powered off' : `rebooted (boot ${info.boot})`;
    row.state = state;
    row.stateReason = reason;
    await this.sessions.update({ id }, { state, stateReason: reason });
    l.machineState = state;
    await this.event(row, 'state', { state, previous, reason });
  }

  /**
   * Takes a checkpoint (at once, under the session lock the caller holds) and
   * stores it with CheckpointStore, which drops the journal entries it covers.
   * The store's work runs behind the op that triggered it, one checkpoint
   * after another per session, unless `wait`. Until it commits, the previous
   * checkpoint and the journal remain the durable state; a write that fails is
   * logged and the next checkpoint covers its entries.
   */
  private async checkpoint(id: string, l: Live, wait = false): Promise<void> {
    const cp = await (await this.ensure(l)).checkpoint();
    const seq = l.seq;
    l.sinceCheckpoint = 0;
    l.checkpointAtMs = this.clock.now();
    const write = (l.writing ?? Promise.resolve()).then(async () => {
      const stored = await this.store.write(id, cp, seq, l.stored);
      if (stored) l.stored = stored;
    });
    l.writing = write.catch((e) => this.log.error(`checkpoint of ${id} at seq ${seq} failed: ${String(e)}`));
    if (wait) await write;
  }

  /** Counts a journaled op; whether the session is due for a checkpoint (see KERNELAB_CHECKPOINT_MIN_INTERVAL_MS). */
  private checkpointDue(l: Live): boolean {
    const every = this.cfg.KERNELAB_CHECKPOINT_EVERY;
    if (++l.sinceCheckpoint < every) return false;
    if (l.sinceCheckpoint >= 10 * every) return true;
    return this.clock.now() - l.checkpointAtMs >= this.cfg.KERNELAB_CHECKPOINT_MIN_INTERVAL_MS;
  }

  private touch(id: string, l: Live): void {
    const now = this.clock.now();
    if (now - l.lastTouchMs < TOUCH_EVERY_MS) return;
    l.lastTouchMs = now;
    void this.sessions.update({ id }, { lastActiveAt: new Date(now) }).catch(() => undefined);
  }

  // ------------------------------------------------------------ snapshots

  async snapshot(tenant: Tenant, id: string, name?: string): Promise<SnapshotView> {
    await this.machine(tenant, id);
    const l = this.live.get(id) as Live;
    return l.lock.runExclusive(async () => {
      const m = await this.ensure(l);
      const bytes = await m.snapshot();
      const info = await m.info();
      const row = this.snapshots.create({
        id: randomUUID(),
        tenantId: tenant.id,
        sessionId: id,
        name: name ?? null,
        driver: m.driver,
        data: Buffer.alloc(0),
        sizeBytes: bytes.length,
        uptimeNs: info.uptimeNs,
        createdAt: new Date(this.clock.now()),
      });
      await this.db.transaction(async (tx) => {
        await tx.insert(SnapshotRow, row);
        await this.store.saveImage(tx, row.id, bytes);
      });
      const srow = await this.owned(tenant, id);
      await this.event(srow, 'snapshot', { snapshotId: row.id });
      return snapView(row);
    });
  }

  async listSnapshots(tenant: Tenant, id: string): Promise<SnapshotView[]> {
    await this.owned(tenant, id);
    const rows = await this.snapshots.find({ where: { tenantId: tenant.id, sessionId: id }, order: { createdAt: 'ASC' } });
    return rows.map(snapView);
  }

  async restore(tenant: Tenant, id: string, snapshotId: string): Promise<SessionView> {
    await this.machine(tenant, id);
    const l = this.live.get(id) as Live;
    const snap = await this.store.loadImage(snapshotId, tenant.id);
    if (!snap) throw notFound('snapshot');
    const machine = await this.ensure(l);
    if (snap.driver !== machine.driver) throw new ApiError(400, 'SNAPSHOT_MISMATCH', `snapshot is of driver ${snap.driver}`);
    await l.lock.runExclusive(async () => {
      await machine.restore(snap.bytes);
      await this.checkpoint(id, l, true);
    });
    this.bus.machineReplaced$.next(id);
    const row = await this.owned(tenant, id);
    await this.event(row, 'restored', { snapshotId });
    return view(row);
  }

  // ------------------------------------------------------------ reaping

  /** Reaps expired and idle sessions; warns those about to expire. Runs on an interval. */
  async reap(): Promise<{ expired: number; idle: number }> {
    if (this.shuttingDown) return { expired: 0, idle: 0 };
    const now = this.clock.now();
    const expired = await this.sessions.find({ where: { state: In(LIVE_STATES), expiresAt: LessThanOrEqual(new Date(now)) } });
    for (const row of expired) await this.destroy(row, 'expired');
    let idle: SessionRow[] = [];
    if (this.cfg.KERNELAB_IDLE_TIMEOUT_SECONDS > 0) {
      idle = await this.sessions.find({
        where: { state: In(LIVE_STATES), lastActiveAt: LessThanOrEqual(new Date(now - this.cfg.KERNELAB_IDLE_TIMEOUT_SECONDS * 1000)) },
      });
      for (const row of idle) await this.destroy(row, 'idle');
    }
    const soon = await this.sessions.find({
      where: { state: In(LIVE_STATES), expiresAt: LessThanOrEqual(new Date(now + this.cfg.KERNELAB_EXPIRY_WARNING_SECONDS * 1000)) },
    });
    for (const row of soon) {
      if (this.warned.has(row.id)) continue;
      this.warned.add(row.id);
      await this.event(row, 'expiring', {
        expiresAt: row.expiresAt.toISOString(),
        secondsLeft: Math.max(0, Math.round((row.expiresAt.getTime() - now) / 1000)),
      });
    }
    return { expired: expired.length, idle: idle.length };
  }

  // ------------------------------------------------------------ events

  private async event(row: SessionRow, type: SessionEvent['type'], data: Record<string, unknown>): Promise<void> {
    const at = new Date(this.clock.now());
    // one atomic statement: bump the session's event counter and store the event under it
    const rows = (await this.db.query(
      `WITH u AS (UPDATE sessions SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq)
       INSERT INTO session_events (session_id, seq, type, data, created_at) SELECT $1, event_seq, $2, $3, $4 FROM u RETURNING seq`,
      [row.id, type, JSON.stringify(data), at],
    )) as { seq: string | number }[];
    const seq = Number(rows[0].seq);
    this.bus.events$.next({ sessionId: row.id, tenantId: row.tenantId, seq, type, data, at: at.toISOString() });
  }

  private async liveCount(tenantId: string): Promise<number> {
    const r = (await this.db.query(`SELECT count(*)::int AS n FROM sessions WHERE tenant_id = $1 AND state = ANY($2)`, [
      tenantId,
      LIVE_STATES,
    ])) as { n: number }[];
    return Number(r[0].n);
  }

  /** Lifecycle events with seq >= fromSeq (for stream resume). */
  async eventsSince(id: string, fromSeq: number, limit = 1000): Promise<SessionEvent[]> {
    const row = await this.sessions.findOne({ where: { id }, select: { id: true, tenantId: true } });
    if (!row) return [];
    const rows = await this.eventRows
      .createQueryBuilder('e')
      .where('e.session_id = :id AND e.seq >= :from', { id, from: fromSeq })
      .orderBy('e.seq', 'ASC')
      .take(limit)
      .getMany();
    return rows.map((e) => ({
      sessionId: id,
      tenantId: row.tenantId,
      seq: e.seq,
      type: e.type as SessionEvent['type'],
      data: e.data,
      at: e.createdAt.toISOString(),
    }));
  }

  /** Counts for /metrics. */
  async countsByState(): Promise<Record<SessionState, number>> {
    const rows = (await this.sessions
      .createQueryBuilder('s')
      .select('s.state', 'state')
      .addSelect('COUNT(*)', 'n')
      .groupBy('s.state')
      .getRawMany()) as {
      state: SessionState;
      n: string;
    }[];
    const out = { provisioning: 0, running: 0, crashed: 0, stopped: 0, deleted: 0 } as Record<SessionState, number>;
    for (const r of rows) out[r.state] = Number(r.n);
    return out;
  }

  get liveMachines(): number {
    return this.live.size;
  }
}

export function view(r: SessionRow): SessionView {
  return {
    id: r.id,
    driver: r.driver,
    state: r.state,
    kernelRelease: r.kernelRelease,
    cpus: r.cpus,
    memoryMb: r.memoryMb,
    clock: r.clock,
    seed: r.seed,
    hostname: r.hostname,
    labels: r.labels,
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    lastActiveAt: r.lastActiveAt.toISOString(),
    stateReason: r.stateReason,
    kernelConfig: r.kernelConfig ?? null,
  };
}

function snapView(s: SnapshotRow): SnapshotView {
  return {
    snapshotId: s.id,
    sessionId: s.sessionId,
    name: s.name,
    driver: s.driver,
    sizeBytes: s.sizeBytes,
    uptimeNs: s.uptimeNs,
    createdAt: s.createdAt.toISOString(),
  };
}
