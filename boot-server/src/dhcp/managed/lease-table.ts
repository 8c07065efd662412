// The managed DHCP's addresses: a pool, the reservations of the hosts' specs (spec.bootIPAddress), offers held for a
// minute, and leases kept in a file that is written (fsync, then rename) before the ACK that grants them goes out: a
// restart never hands an address to a second machine while the first still holds it.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

export interface Lease {
  mac: string;
  address: string;
  /** Epoch ms. */
  expires: number;
}

export interface Reservations {
  /** The address the host with this MAC reserves. */
  reservationOf(mac: string): string | undefined;
  /** Every reserved address, with the MAC of the host that reserves it. */
  reserved(): Map<string, string>;
}

const OFFER_HOLD_MS = 60_000;
const DECLINED_HOLD_MS = 10 * 60_000;

export const ipToInt = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
export const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** "10.0.0.100-10.0.0.199": both ends included; an error message when it is not such a range. */
export function parsePool(text: string): { start: number; end: number } | string {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})-(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text.trim());
  const valid = (ip: string) => ip.split('.').every((o) => Number(o) <= 255);
  if (!m || !valid(m[1]!) || !valid(m[2]!)) return `a pool is two IPv4 addresses joined by "-", e.g. 10.20.0.100-10.20.0.199, got "${text}"`;
  const start = ipToInt(m[1]!);
  const end = ipToInt(m[2]!);
  if (end < start) return `the pool's first address is after its last: "${text}"`;
  if (end - start >= 65_536) return `a pool holds at most 65,536 addresses: "${text}"`;
  return { start, end };
}

export class LeaseTable {
  private readonly leases = new Map<string, Lease>();
  private readonly offers = new Map<string, { address: string; until: number }>();
  private readonly declined = new Map<string, number>();

  constructor(
    private readonly pool: { start: number; end: number },
    private readonly file: string,
    private readonly reservations: Reservations,
  ) {
    if (existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { leases?: Lease[] };
      for (const l of saved.leases ?? []) this.leases.set(l.mac, l);
    }
  }

  /** The lease a MAC holds (expired or not). */
  leaseOf(mac: string): Lease | undefined {
    return this.leases.get(mac);
  }

  /** The address to offer `mac`: its reservation, its lease, the one it asks for when free, else the first free one. */
  offer(mac: string, requested: string | undefined, now: number): string | undefined {
    const address = this.reservations.reservationOf(mac) ?? this.choose(mac, requested, now);
    if (address) this.offers.set(mac, { address, until: now + OFFER_HOLD_MS });
    return address;
  }

  /** Whether `mac` may have `address` now (its reservation, or a pool address nobody else holds). */
  mayHave(mac: string, address: string, now: number): boolean {
    const reservation = this.reservations.reservationOf(mac);
    if (reservation) return reservation === address;
    return this.freeFor(mac, ipToInt(address), now);
  }

  /** Grants `address` to `mac` until now + seconds, on disk before it returns. */
  commit(mac: string, address: string, seconds: number, now: number): Lease {
    const lease = { mac, address, expires: now + seconds * 1000 };
    this.leases.set(mac, lease);
    this.offers.delete(mac);
    this.save();
    return lease;
  }

  release(mac: string, address: string): boolean {
    if (this.leases.get(mac)?.address !== address) return false;
    this.leases.delete(mac);
    this.save();
    return true;
  }

  /** Someone else answers ARP for it: not offered again for a while. */
  decline(mac: string, address: string, now: number): void {
    this.declined.set(address, now + DECLINED_HOLD_MS);
    this.offers.delete(mac);
    if (this.leases.get(mac)?.address === address) {
      this.leases.delete(mac);
      this.save();
    }
  }

  private choose(mac: string, requested: string | undefined, now: number): string | undefined {
    const taken = this.takenByOthers(mac, now);
    const free = (address: string | undefined): address is string => {
      if (!address) return false;
      const n = ipToInt(address);
      return n >= this.pool.start && n <= this.pool.end && !taken.has(address);
    };
    const own = this.leases.get(mac)?.address ?? this.offers.get(mac)?.address;
    if (free(own)) return own;
    if (free(requested)) return requested;
    for (let n = this.pool.start; n <= this.pool.end; n++) if (free(intToIp(n))) return intToIp(n);
    return undefined;
  }

  private freeFor(mac: string, n: number, now: number): boolean {
    return n >= this.pool.start && n <= this.pool.end && !this.takenByOthers(mac, now).has(intToIp(n));
  }

  /** Addresses `mac` may not have now: leased or offered to another, declined, or reserved by another host. */
  private takenByOthers(mac: string, now: number): Set<string> {
    const taken = new Set<string>();
    for (const [address, until] of this.declined) if (until > now) taken.add(address);
    for (const [address, owner] of this.reservations.reserved()) if (owner !== mac) taken.add(address);
    for (const l of this.leases.values()) if (l.mac !== mac && l.expires > now) taken.add(l.address);
    for (const [m, o] of this.offers) if (m !== mac && o.until > now) taken.add(o.address);
    return taken;
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify({ leases: [...this.leases.values()] }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
