// Errors of the Proxmox VE API client. Every failure says what PVE said (HTTP status, its message, per-parameter
// errors) and whether retrying can help: the controller retries transient errors with backoff and reports
// permanent ones in status with the PVE message.

export type ProxmoxErrorCode =
  /** 401: the token is missing, malformed, unknown or its secret is wrong. */
  | 'auth'
  /** 403: the token lacks a privilege ("Permission check failed (/vms/100, VM.Allocate)"). */
  | 'permission'
  /** 400: a parameter is unknown or malformed; `paramErrors` says which. */
  | 'parameter'
  /** "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout" or "VM 100 is locked (...)". */
  | 'lock'
  /** "VM 100 already exists on node 'pve'" (a VMID collision: pick another VMID). */
  | 'already-exists'
  /** The VM, storage, volume or task does not exist. */
  | 'not-found'
  /** 5xx/596 without a more specific meaning: PVE or the proxy between nodes is temporarily unavailable. */
  | 'unavailable'
  /** The API could not be reached: connection refused/reset, DNS, timeout. */
  | 'network'
  /** The TLS handshake failed (unknown CA, wrong host name): needs a configuration change. */
  | 'tls'
  /** A task ended with an error exit status (see ProxmoxTaskError). */
  | 'task-failed'
  /** Anything else PVE refused (e.g. "storage 'x' is not configured for content-type 'import'"). */
  | 'other';

export interface ProxmoxErrorDetails {
  code: ProxmoxErrorCode;
  /** HTTP status; 0 when no response arrived. */
  status: number;
  /** PVE's own message (body `message` or the HTTP reason phrase), without the trailing newline. */
  pveMessage: string;
  /** Per-parameter errors from PVE's 400 response (`errors` object), e.g. `{ "scsi0": "invalid format - ..." }`. */
  paramErrors?: Record<string, string>;
  /** The request, for the log and the status message: `POST /nodes/pve/qemu`. */
  request?: string;
  transient: boolean;
  cause?: unknown;
}

export class ProxmoxError extends Error {
  readonly code: ProxmoxErrorCode;
  readonly status: number;
  readonly pveMessage: string;
  readonly paramErrors: Record<string, string>;
  readonly request: string | undefined;
  /** True when the same call may succeed later (5xx, 596, network errors, lock timeouts): retry with backoff. */
  readonly transient: boolean;

  constructor(details: ProxmoxErrorDetails) {
    super(describe(details), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ProxmoxError';
    this.code = details.code;
    this.status = details.status;
    this.pveMessage = details.pveMessage;
    this.paramErrors = details.paramErrors ?? {};
    this.request = details.request;
    this.transient = details.transient;
  }
}

/** A PVE task (UPID) that ended with an exit status other than OK. */
export class ProxmoxTaskError extends ProxmoxError {
  readonly upid: string;
  readonly taskType: string;
  readonly exitStatus: string;
  /** The last lines of the task log, oldest first. */
  readonly logTail: string[];

  constructor(task: { upid: string; type: string; exitStatus: string; logTail: string[] }) {
    const code = classifyMessage(task.exitStatus) ?? 'task-failed';
    super({
      code,
      status: 0,
      pveMessage: task.exitStatus,
      request: `task ${task.type} ${task.upid}`,
      transient: code === 'lock',
    });
    this.name = 'ProxmoxTaskError';
    this.upid = task.upid;
    this.taskType = task.type;
    this.exitStatus = task.exitStatus;
    this.logTail = task.logTail;
    this.message = `PVE task ${task.type} failed: ${task.exitStatus}`;
  }
}

const LOCK_TIMEOUT = /can't lock file '[^']*' - got timeout/;
const LOCKED = /\bis locked \(/;
const ALREADY_EXISTS = /\bVM \d+ already exists\b|config file already exists/;
/** 500 answers about the configuration of the node: retrying cannot fix them. */
const PERMANENT = /not configured for content-type|not a file based storage|can't upload to storage type|refusing to override existing file|you can't convert|is a template|shrinking disks is not supported/;
const NOT_FOUND = /does not exist|no such (task|VM|storage|volume|cluster node)|unable to find|not found/i;

/** What a PVE message means, when it means something specific. */
export function classifyMessage(message: string): ProxmoxErrorCode | undefined {
  if (LOCK_TIMEOUT.test(message) || LOCKED.test(message)) return 'lock';
  if (ALREADY_EXISTS.test(message)) return 'already-exists';
  if (NOT_FOUND.test(message)) return 'not-found';
  return undefined;
}

/** True for "can't lock file ... got timeout" (PVE's lock timeout, always worth a retry). */
export function isLockTimeout(message: string): boolean {
  return LOCK_TIMEOUT.test(message);
}

/**
 * Classifies an HTTP error answer. 401, 403 and 400 are permanent. 5xx and 596 are transient, except when PVE's
 * message names a condition a retry cannot change (the VM exists, something does not exist): PVE answers every
 * failed `die` with 500, so the status alone would retry "storage 'x' does not exist" forever.
 */
export function errorFromResponse(
  status: number,
  pveMessage: string,
  paramErrors: Record<string, string> | undefined,
  request: string,
): ProxmoxError {
  const message = pveMessage.replace(/\s+$/, '');
  let code: ProxmoxErrorCode;
  let transient = false;
  if (status === 401) code = 'auth';
  else if (status === 403) code = 'permission';
  else if (status === 400) code = 'parameter';
  else if (status >= 500) {
    code = classifyMessage(message) ?? (PERMANENT.test(message) ? 'other' : 'unavailable');
    transient = code === 'lock' || code === 'unavailable';
  } else code = classifyMessage(message) ?? 'other';
  return new ProxmoxError({ code, status, pveMessage: message, paramErrors, request, transient });
}

const TLS_CODES = /^(ERR_TLS_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET|VERIFY)|CERT_|ERR_SSL_)/;

/** Wraps a failure to get any answer (fetch threw). TLS verification failures are permanent, the rest transient. */
export function errorFromNetwork(cause: unknown, request: string): ProxmoxError {
  const codeOf = (e: unknown): string => {
    const c = (e as { code?: unknown; cause?: unknown } | undefined)?.code;
    if (typeof c === 'string') return c;
    const inner = (e as { cause?: unknown } | undefined)?.cause;
    return inner && inner !== e ? codeOf(inner) : '';
  };
  const messageOf = (e: unknown): string => {
    const inner = (e as { cause?: unknown } | undefined)?.cause;
    const own = e instanceof Error ? e.message : String(e);
    return inner instanceof Error && inner.message && inner.message !== own ? `${own}: ${inner.message}` : own;
  };
  const code = codeOf(cause);
  const isTls = TLS_CODES.test(code);
  const isTimeout = (cause as { name?: string } | undefined)?.name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT';
  return new ProxmoxError({
    code: isTls ? 'tls' : 'network',
    status: 0,
    pveMessage: isTimeout ? 'request timed out' : `${messageOf(cause)}${code ? ` (${code})` : ''}`,
    request,
    transient: !isTls,
    cause,
  });
}

function describe(d: ProxmoxErrorDetails): string {
  const where = d.request ? `${d.request}: ` : '';
  const status = d.status ? `HTTP ${d.status} ` : '';
  const params = d.paramErrors && Object.keys(d.paramErrors).length
    ? ` (${Object.entries(d.paramErrors).map(([k, v]) => `${k}: ${v.replace(/\s+$/, '').replace(/\n/g, ' ')}`).join('; ')})`
    : '';
  return `${where}${status}${d.pveMessage || 'no message'}${params}`;
}
