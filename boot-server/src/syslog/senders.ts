// Which machine a syslog datagram comes from: syslog carries no MAC and no token, so the sender is known by its IP
// address, the one its last boot request (iPXE script, kernel, preseed file...) came from. A bounded map, the least
// recently seen address forgotten first; a machine that changed its address is found again at its next request.
import { normalizeMac } from '@anvil/core/bootconfig';
import type { SpoolRecord } from '../spool/records.js';

export const DEFAULT_MAX_SENDERS = 4096;

/** `::ffff:10.0.0.5` (an IPv4 client on a dual-stack socket) is 10.0.0.5. */
export const plainAddress = (ip: string): string => ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

export class BootSenders {
  private readonly macs = new Map<string, string>();

  constructor(private readonly max = DEFAULT_MAX_SENDERS) {}

  /** Remembers the address of each boot request served to a known host. */
  observe(records: readonly SpoolRecord[]): void {
    for (const r of records) {
      if (r.kind !== 'boot-request' || !r.host || !r.clientIP) continue;
      const ip = plainAddress(r.clientIP);
      this.macs.delete(ip);
      this.macs.set(ip, normalizeMac(r.mac));
      if (this.macs.size > this.max) this.macs.delete(this.macs.keys().next().value!);
    }
  }

  macOf(ip: string): string | undefined {
    return this.macs.get(plainAddress(ip));
  }

  get size(): number {
    return this.macs.size;
  }

  /** The spool, seen through: every record appended is observed once it is durable. */
  watch<S extends { append(records: SpoolRecord[]): Promise<void> }>(spool: S): { append(records: SpoolRecord[]): Promise<void> } {
    return {
      append: async (records) => {
        await spool.append(records);
        this.observe(records);
      },
    };
  }
}
