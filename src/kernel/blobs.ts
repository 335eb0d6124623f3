import { KernelError } from './errors';

/**
 * Large immutable parts of a machine state (full trace ring pages, finished
 * trace recordings) can travel beside the state as blobs: getState(sink)
 * hands each one to the sink, which names it, and the state holds
 * `{$blob: key}` in its place. A checkpoint then stores only the blobs it has
 * not stored before; fromState(state, source) resolves the references.
 */
export interface BlobSink {
  /** Names an immutable value (the same object always gets the same key). */
  ref(value: object): string;
}

/** The value stored under a key (a checkpoint's blobs, decoded). */
export type BlobSource = (key: string) => unknown;

export interface BlobRef {
  $blob: string;
}

export function blobRef(sink: BlobSink, value: object): BlobRef {
  return { $blob: sink.ref(value) };
}

export function isBlobRef(v: unknown): v is BlobRef {
  return typeof v === 'object' && v !== null && typeof (v as BlobRef).$blob === 'string' && Object.keys(v).length === 1;
}

/** The value behind a reference (values that are not references pass through). */
export function resolveBlob(v: unknown, source?: BlobSource): unknown {
  if (!isBlobRef(v)) return v;
  const got = source?.(v.$blob);
  if (got === undefined) throw new KernelError('EINVAL', `snapshot blob ${v.$blob} is missing`);
  return got;
}
