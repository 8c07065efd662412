// Per-VM locks (/var/lock/qemu-server/lock-<vmid>.conf): a task or a synchronous call waits for a VM's lock up to
// the lock timeout, then fails with PVE's "got timeout".
import { randomUUID } from 'node:crypto';
import { fail500 } from './errors.js';

export const lockMessage = (vmid: number | string) => `can't lock file '/var/lock/qemu-server/lock-${vmid}.conf' - got timeout`;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class VmLocks {
  private readonly owners = new Map<number, string>();

  constructor(private readonly timeoutMs: number) {}

  async acquire(vmid: number, owner: string): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    while (this.owners.has(vmid) && this.owners.get(vmid) !== owner) {
      if (Date.now() >= deadline) throw new Error(lockMessage(vmid));
      await sleep(2);
    }
    this.owners.set(vmid, owner);
  }

  release(vmid: number, owner: string): void {
    if (this.owners.get(vmid) === owner) this.owners.delete(vmid);
  }

  /** For synchronous calls that take the VM lock (PUT config): a timeout answers 500. */
  async with<T>(vmid: number, fn: () => T): Promise<T> {
    const owner = `sync-${randomUUID()}`;
    try {
      await this.acquire(vmid, owner);
    } catch (err) {
      throw fail500((err as Error).message);
    }
    try {
      return fn();
    } finally {
      this.release(vmid, owner);
    }
  }

  /** Holds a VM's lock as if another task ran, until the returned function is called. */
  holdExternally(vmid: number): () => void {
    const owner = `external-${randomUUID()}`;
    this.owners.set(vmid, owner);
    return () => this.release(vmid, owner);
  }
}
