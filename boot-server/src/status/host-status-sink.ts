// Reflects spooled boot requests and installer events into the BareMetalHost's status (only the install-progress
// part; the operator owns the rest). Patches are guarded by the installation id, so a late event of a replaced
// attempt is dropped instead of being attributed to the new one.
import type { Logger } from 'pino';
import { AnvilResources } from '@anvil/core/api';
import { bootRequestPatch, installerEventsPatch, type InstallationMemory, type JsonPatchOp } from '@anvil/core/install';
import { ApiError, type KubeClient } from '@anvil/core/kube';
import { forEachLimit } from '../spool/for-each-limit.js';
import type { Sink, SinkBatching } from '../spool/shipper.js';
import type { BootRequestRecord, InstallerEventRecord, SpoolRecord } from '../spool/records.js';

/** Installations whose failure/verdict this process has recorded, so a later batch keeps the deepest failure. */
const MEMORY_LIMIT = 50_000;

export class HostStatusSink implements Sink<SpoolRecord> {
  readonly name = 'host-status';
  /**
   * A batch costs one patch per host and installation, however many of its events it holds (only the newest state,
   * the failure and the verdict are written): under load, fewer and larger batches (at most two a second, and
   * resting as long as the last one took) bound the API requests per host instead of growing with the events, and
   * leave the CPU to accepting events and storing them. With 1,000 hosts installing at once, a host's status is then
   * seconds behind its events (docs/benchmarks.md); the history is not held back by it.
   */
  readonly batching: SinkBatching = { maxRecords: 20_000, minIntervalMs: 500, maxBusyShare: 0.5 };
  dropped = 0;
  private readonly memory = new Map<string, InstallationMemory>();

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    /** Hosts patched at once within a batch. */
    private readonly concurrency = 16,
  ) {}

  async ship(records: SpoolRecord[]): Promise<void> {
    // Per host, in order: its newest boot request (only that one matters for status), then one patch per installation.
    const perHost = new Map<string, { namespace: string; name: string; boot?: BootRequestRecord; events: Map<string, InstallerEventRecord[]> }>();
    const hostEntry = (namespace: string, name: string) => {
      const key = `${namespace}/${name}`;
      let entry = perHost.get(key);
      if (!entry) perHost.set(key, (entry = { namespace, name, events: new Map() }));
      return entry;
    };
    for (const r of records) {
      if (r.kind === 'boot-request' && r.host) hostEntry(r.host.namespace, r.host.name).boot = r;
      if (r.kind === 'installer-event') {
        const events = hostEntry(r.host.namespace, r.host.name).events;
        const list = events.get(r.installationId);
        if (list) list.push(r);
        else events.set(r.installationId, [r]);
      }
    }
    // Different hosts are patched concurrently (bounded): one slow or busy host must not hold up a rack's progress.
    await forEachLimit([...perHost.values()], this.concurrency, async ({ namespace, name, boot, events }) => {
      if (boot) await this.apply(namespace, name, bootRequestPatch({ time: boot.time, clientIP: boot.clientIP, path: boot.path, served: boot.served }, true), 'boot request');
      for (const [installationId, list] of events) {
        const { ops, memory } = installerEventsPatch(
          installationId,
          list.map((r) => ({ event: r.event, receivedAt: new Date(r.receivedAt), ...(r.afterVerdict ? { afterVerdict: true } : {}) })),
          this.memory.get(installationId),
        );
        await this.apply(namespace, name, ops, 'installer events');
        this.remember(installationId, memory);
      }
    });
  }

  private remember(installationId: string, memory: InstallationMemory): void {
    this.memory.delete(installationId);
    this.memory.set(installationId, memory);
    if (this.memory.size > MEMORY_LIMIT) this.memory.delete(this.memory.keys().next().value!);
  }

  private async apply(namespace: string, name: string, ops: JsonPatchOp[], what: string): Promise<void> {
    try {
      await this.client.patch(AnvilResources.bareMetalHost, { namespace, name }, 'json', ops, { subresource: 'status' });
    } catch (err) {
      // 404: the host is gone; 422: the guard failed (a replaced attempt) or the host has no status yet. Neither
      // gets better by retrying; the records stay in the install history.
      if (err instanceof ApiError && (err.code === 404 || err.code === 422)) {
        this.dropped++;
        this.log.info({ host: `${namespace}/${name}`, what, reason: err.message }, 'not reflected into host status');
        return;
      }
      throw err;
    }
  }
}
