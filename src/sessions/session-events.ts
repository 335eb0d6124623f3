import { Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';

/** A lifecycle event on a session's `session` stream. */
export interface SessionEvent {
  sessionId: string;
  tenantId: string;
  seq: number;
  type: 'state' | 'expiring' | 'restored' | 'snapshot' | 'updated';
  data: Record<string, unknown>;
  at: string;
}

/** In-process fan-out of session events to the gateway (a Redis adapter carries them across processes). */
@Injectable()
export class SessionEventBus {
  readonly events$ = new Subject<SessionEvent>();
  /** emitted after a machine was replaced (restore): stream subscribers re-attach */
  readonly machineReplaced$ = new Subject<string>();
}
