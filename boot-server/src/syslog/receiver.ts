// d-i's syslog turned into installer events: a datagram is parsed, its sender mapped to the host whose boot requests
// came from that address, and main-menu's log followed per install (DebianInstallerProgress). The events take the
// webhook's path (WebhookReceiver with the install's token), so they are checked, spooled and reach the history and
// the host's status exactly as posted events do. Only hosts with a current debian-preseed install are followed;
// anything else is dropped and counted, never thrown.
import type { BootConfigIndex } from '../bootconfigs/index.js';
import { RateLimiter } from '../http/rate-limit.js';
import type { WebhookAnswer } from '../http/webhook.js';
import { DebianInstallerProgress } from './d-i-progress.js';
import type { BootSenders } from './senders.js';
import { parseSyslog } from './syslog-message.js';

export type DatagramOutcome = 'event' | 'ignored' | 'malformed' | 'unknown-sender' | 'not-installing' | 'rate-limited' | 'refused';

export interface SyslogReceiverDeps {
  index: BootConfigIndex;
  senders: BootSenders;
  /** The webhook's receiver: posts one event as the host's installer would. */
  post(mac: string, token: string, body: string, remoteAddress: string, path: string): WebhookAnswer | Promise<WebhookAnswer>;
  count(outcome: DatagramOutcome): void;
  /** Datagrams per second and burst per sender (d-i logs a few hundred lines over an install). */
  rateLimit?: { perSecond: number; burst: number };
  now?: () => number;
}

/** Installs followed at once at most; the oldest is forgotten first (it has long finished). */
const MAX_TRACKED = 1024;

export class SyslogReceiver {
  private readonly progress = new Map<string, DebianInstallerProgress>();
  private readonly limiter: RateLimiter;

  constructor(private readonly deps: SyslogReceiverDeps) {
    this.limiter = new RateLimiter({ ...(deps.rateLimit ?? { perSecond: 200, burst: 2000 }), maxAddresses: 4096 });
  }

  /** Handles one datagram; resolves once its events are spooled (or refused). */
  async receive(datagram: Buffer, remoteAddress: string): Promise<DatagramOutcome> {
    const outcome = await this.outcomeOf(datagram, remoteAddress);
    this.deps.count(outcome);
    return outcome;
  }

  private async outcomeOf(datagram: Buffer, remoteAddress: string): Promise<DatagramOutcome> {
    if (!this.limiter.take(remoteAddress)) return 'rate-limited';
    const msg = parseSyslog(datagram);
    if ('error' in msg) return 'malformed';
    const mac = this.deps.senders.macOf(remoteAddress);
    if (!mac) return 'unknown-sender';
    const config = this.deps.index.byMac(mac);
    const install = config?.mode === 'install' ? config.install : undefined;
    if (!install || install.installer !== 'debian-preseed') return 'not-installing';
    const events = this.tracker(install.installationId).next(msg, this.deps.now?.() ?? Date.now());
    if (!events.length) return 'ignored';
    let outcome: DatagramOutcome = 'event';
    for (const event of events) {
      const answer = await this.deps.post(mac, install.token, JSON.stringify(event), remoteAddress, '/syslog');
      if (answer.status !== 200) outcome = 'refused';
    }
    return outcome;
  }

  private tracker(installationId: string): DebianInstallerProgress {
    let t = this.progress.get(installationId);
    if (!t) {
      t = new DebianInstallerProgress();
      this.progress.set(installationId, t);
      if (this.progress.size > MAX_TRACKED) this.progress.delete(this.progress.keys().next().value!);
    }
    return t;
  }
}
