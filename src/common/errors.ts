import { HttpException, HttpStatus } from '@nestjs/common';
import { isKernelError, type KernelError } from '../kernel/errors';

/** The one error body of every 4xx/5xx answer, over REST and WebSockets. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code: string;
  /** every problem found, when there are several (manifest validation) */
  details?: string[];
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function reason(status: number): string {
  return REASONS[status] ?? 'Error';
}

/** An HTTP error with a machine-readable code. */
export class ApiError extends HttpException {
  constructor(
    status: number,
    readonly code: string,
    message: string,
    details?: string[],
  ) {
    super({ statusCode: status, error: reason(status), message, code, ...(details ? { details } : {}) }, status);
  }
}

export const notFound = (what = 'session'): ApiError => new ApiError(404, 'NOT_FOUND', `${what} not found`);

/** Linux errno -> HTTP status at the edge. */
const ERRNO_STATUS: Record<string, number> = {
  EINVAL: 400,
  E2BIG: 400,
  ERANGE: 400,
  EDOM: 400,
  ENAMETOOLONG: 400,
  ENOTDIR: 400,
  EISDIR: 400,
  ELOOP: 400,
  EFAULT: 400,
  EOVERFLOW: 400,
  EACCES: 403,
  EPERM: 403,
  ENOENT: 404,
  ESRCH: 404,
  ENODEV: 404,
  ENXIO: 404,
  EROFS: 409,
  EBUSY: 409,
  EEXIST: 409,
  ENOTEMPTY: 409,
  EXDEV: 409,
  EAGAIN: 429,
  ENOSPC: 507,
  ENOMEM: 507,
  ENOSYS: 501,
  EOPNOTSUPP: 501,
  ETIMEDOUT: 504,
  /** the machine has crashed (kernel panic) or is powered off: reboot it */
  EHOSTDOWN: 409,
  EIO: 500,
};

export function kernelErrorBody(e: KernelError): ErrorBody {
  const status = ERRNO_STATUS[e.code] ?? 400;
  return { statusCode: status, error: reason(status), message: e.message, code: e.code };
}

/** Converts anything thrown into the error body (used by the HTTP filter and the gateway). */
export function toErrorBody(e: unknown): ErrorBody {
  if (isKernelError(e)) return kernelErrorBody(e);
  if (e instanceof HttpException) {
    const status = e.getStatus();
    const r = e.getResponse();
    if (typeof r === 'object' && r !== null && 'code' in r && 'message' in r) {
      const o = r as Partial<ErrorBody>;
      const body: ErrorBody = { statusCode: status, error: reason(status), message: String(o.message), code: String(o.code) };
      if (Array.isArray(o.details)) body.details = o.details.map(String);
      return body;
    }
    let message: string = e.message;
    if (typeof r === 'object' && r !== null && 'message' in r) {
      const m = (r as { message: unknown }).message;
      message = Array.isArray(m) ? m.join('; ') : String(m);
    }
    return { statusCode: status, error: reason(status), message, code: defaultCode(status) };
  }
  return { statusCode: 500, error: reason(500), message: 'internal error', code: 'INTERNAL' };
}

export function defaultCode(status: number): string {
  switch (status) {
    case HttpStatus.BAD_REQUEST:
      return 'BAD_REQUEST';
    case HttpStatus.UNAUTHORIZED:
      return 'UNAUTHORIZED';
    case HttpStatus.FORBIDDEN:
      return 'FORBIDDEN';
    case HttpStatus.NOT_FOUND:
      return 'NOT_FOUND';
    case HttpStatus.METHOD_NOT_ALLOWED:
      return 'METHOD_NOT_ALLOWED';
    case HttpStatus.CONFLICT:
      return 'CONFLICT';
    case HttpStatus.PAYLOAD_TOO_LARGE:
      return 'PAYLOAD_TOO_LARGE';
    case HttpStatus.TOO_MANY_REQUESTS:
      return 'RATE_LIMITED';
    case HttpStatus.NOT_IMPLEMENTED:
      return 'NOT_IMPLEMENTED';
    case HttpStatus.SERVICE_UNAVAILABLE:
      return 'UNAVAILABLE';
    default:
      return status >= 500 ? 'INTERNAL' : 'ERROR';
  }
}
