// The installer's progress webhook, apart from how its request arrived (the plain node:http fast path in
// webhook-fast-path.ts, or express for the unusual forms): who is posting, whether the body is an event every sink can
// store, and the spool append that must be durable before the 2xx. Answers are built once and reused.
import { normalizeMac, tokenMatches, type BootConfig } from '@anvil/core/bootconfig';
import { eventKey, checkInstallerEvent } from '@anvil/core/install';
import type { BootConfigIndex } from '../bootconfigs/index.js';
import type { HostRef, InstallRef, SpoolRecord } from '../spool/records.js';

export interface WebhookAnswer {
  status: number;
  contentType: string;
  body: string;
  retryAfter?: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
export const MAC_PATTERN = /^[0-9a-fA-F]{2}([-:][0-9a-fA-F]{2}){5}$/;
export const DEFAULT_EVENT_GRACE_MS = 30 * 60 * 1000;
export const DEFAULT_MAX_WEBHOOK_BYTES = 64 * 1024;

export const jsonAnswer = (status: number, value: unknown): WebhookAnswer => ({ status, contentType: JSON_TYPE, body: JSON.stringify(value) });
export const textAnswer = (status: number, body: string): WebhookAnswer => ({ status, contentType: TEXT_TYPE, body });
export const ACCEPTED = jsonAnswer(200, { accepted: true });
export const NOT_FOUND = textAnswer(404, 'not found\n');
export const NOT_JSON = jsonAnswer(400, { error: 'body is not valid JSON' });
export const INTERNAL_ERROR = jsonAnswer(500, { error: 'internal error' });
export const tooLarge = (limit: number): WebhookAnswer => jsonAnswer(413, { error: `body larger than ${limit} bytes` });

export type EventOutcome = 'accepted' | 'accepted-after-verdict' | 'unauthorized' | 'malformed' | 'invalid';

export interface WebhookDeps {
  index: BootConfigIndex;
  /** Durable: resolves once the records are on disk. */
  spool: { append(records: SpoolRecord[]): Promise<void> };
  eventGraceMs: number;
  /**
   * A post without a valid token: counts it against the source address (rate limit) and logs it (bounded); answers
   * 429 or 404.
   */
  refuseUnknown(remoteAddress: string, path: string): WebhookAnswer;
  countEvent(outcome: EventOutcome): void;
}

/** What the host's records carry about it and its install, built once per published boot config. */
interface ConfigRefs {
  mac: string;
  host: HostRef;
  install?: InstallRef;
}

export const hostRef = (c: BootConfig): HostRef => ({ namespace: c.hostNamespace, name: c.hostName, uid: c.hostUID });
export const installRef = (c: BootConfig): InstallRef | undefined =>
  c.install
    ? { installationId: c.install.installationId, revision: c.install.revision, attempt: c.install.attempt, ...(c.install.template ? { template: c.install.template } : {}) }
    : undefined;

type Target = InstallRef & { afterVerdict?: boolean };

export class WebhookReceiver {
  /** Boot configs are replaced, never changed, when their Secret changes: a stale entry is simply never looked up again. */
  private readonly refs = new WeakMap<BootConfig, ConfigRefs>();

  constructor(private readonly deps: WebhookDeps) {}

  /**
   * Decides the answer to one post of `body` (decoded text) to /webhook/<mac>/<token>. Accepted events are appended to
   * the spool first: the returned promise resolves once they are on disk (and rejects if they could not be).
   */
  receive(mac: string, token: string, body: string, remoteAddress: string, path: string): WebhookAnswer | Promise<WebhookAnswer> {
    const config = MAC_PATTERN.test(mac) ? this.deps.index.byMac(mac) : undefined;
    const target = config ? this.target(config, token) : undefined;
    if (!config || !target) return this.deps.refuseUnknown(remoteAddress, path);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      this.deps.countEvent('malformed');
      return NOT_JSON;
    }
    const checked = checkInstallerEvent(parsed);
    if ('error' in checked) {
      this.deps.countEvent('invalid');
      return jsonAnswer(400, { error: checked.error });
    }
    const refs = this.refsOf(config);
    const receivedAt = new Date().toISOString();
    const record: SpoolRecord = {
      kind: 'installer-event',
      receivedAt,
      mac: refs.mac,
      host: refs.host,
      installationId: target.installationId,
      install: target,
      eventKey: eventKey(checked.event, receivedAt),
      event: checked.event,
      raw: checked.raw,
      ...(target.afterVerdict ? { afterVerdict: true } : {}),
    };
    const outcome: EventOutcome = target.afterVerdict ? 'accepted-after-verdict' : 'accepted';
    return this.deps.spool.append([record]).then(() => {
      this.deps.countEvent(outcome);
      return ACCEPTED;
    });
  }

  /**
   * Which installation a post belongs to: the current install (token of the published attempt), or the attempt whose
   * verdict just arrived while its grace period lasts. Undefined: refuse.
   */
  private target(config: BootConfig, token: string): Target | undefined {
    const install = config.mode === 'install' ? config.install : undefined;
    if (install && tokenMatches(token, install.tokenSha256)) return this.refsOf(config).install;
    const closed = config.closedInstall;
    if (!closed || !tokenMatches(token, closed.tokenSha256)) return undefined;
    if (this.deps.index.graceEnded(closed.installationId) || Date.now() > Date.parse(closed.closedAt) + this.deps.eventGraceMs) return undefined;
    return {
      installationId: closed.installationId,
      revision: closed.revision,
      attempt: closed.attempt,
      ...(closed.template ? { template: closed.template } : {}),
      afterVerdict: true,
    };
  }

  private refsOf(config: BootConfig): ConfigRefs {
    let refs = this.refs.get(config);
    if (!refs) {
      const install = installRef(config);
      refs = { mac: normalizeMac(config.mac), host: hostRef(config), ...(install ? { install } : {}) };
      this.refs.set(config, refs);
    }
    return refs;
  }
}
