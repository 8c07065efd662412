// Reflects spooled boot requests and installer events into the BareMetalHost's status (only the install-progress
// part; the operator owns the rest). Patches are guarded by the installation id, so a late event of a replaced
// attempt is dropped instead of being attributed to the new one.
import type { Logger } from 'pino';
import { BAREMETALHOST_KIND, BAREMETALHOST_PLURAL, GROUP, VERSION } from '../../../shared/src/api/index.js';
import { bootRequestPatch, installerEventPatch, type JsonPatchOp } from '../../../shared/src/install/host-status-updates.js';
import { ApiError, type KubeClient, type ResourceType } from '../../../shared/src/kube/index.js';
import type { Sink } from '../spool/shipper.js';
import type { BootRequestRecord, InstallerEventRecord, SpoolRecord } from '../spool/records.js';

const HostType: ResourceType = { group: GROUP, version: VERSION, kind: BAREMETALHOST_KIND, plural: BAREMETALHOST_PLURAL, namespaced: true };

export class HostStatusSink implements Sink<SpoolRecord> {
  readonly name = 'host-status';
  dropped = 0;

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
        events.set(r.installationId, [...(events.get(r.installationId) ?? []), r]);
      }
    }
    // Different hosts are patched concurrently (bounded): one slow or busy host must not hold up a rack's progress.
    await forEachLimit([...perHost.values()], this.concurrency, async ({ namespace, name, boot, events }) => {
      if (boot) await this.apply(namespace, name, bootRequestPatch({ time: boot.time, clientIP: boot.clientIP, path: boot.path, served: boot.served }, true), 'boot request');
      for (const [installationId, list] of events) await this.apply(namespace, name, coalesce(installationId, list), 'installer events');
    });
  }

  private async apply(namespace: string, name: string, ops: JsonPatchOp[], what: string): Promise<void> {
    try {
      await this.client.patch(HostType, { namespace, name }, 'json', ops, { subresource: 'status' });
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

/**
 * One patch per installation for a batch: the newest event as lastEvent, the newest known stage, and the verdict if
 * any event carries one. Ties in the installer's timestamps keep arrival order (the spool preserves it).
 */
function coalesce(installationId: string, list: InstallerEventRecord[]): JsonPatchOp[] {
  const ordered = list.map((r, i) => ({ r, i })).sort((a, b) => (a.r.event.timestamp ?? 0) - (b.r.event.timestamp ?? 0) || a.i - b.i).map((x) => x.r);
  const newest = ordered.at(-1)!;
  const ops = installerEventPatch(installationId, newest.event, new Date(newest.receivedAt)).filter(
    (op) => op.op === 'test' || op.path.endsWith('/lastEvent'),
  );
  const staged = [...ordered].reverse().find((r) => installerEventPatch(installationId, r.event).some((op) => op.path.endsWith('/phase')));
  const verdict = [...ordered].reverse().find((r) => installerEventPatch(installationId, r.event).some((op) => op.path.endsWith('/result')));
  for (const source of [staged, verdict]) {
    if (!source) continue;
    for (const op of installerEventPatch(installationId, source.event, new Date(source.receivedAt))) {
      if (op.op === 'test' || op.path.endsWith('/lastEvent') || ops.some((o) => o.path === op.path)) continue;
      ops.push(op);
    }
  }
  return ops;
}

/** Runs fn over items, at most `limit` at once; every item runs, then the first error (if any) is thrown. */
async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: unknown;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        if (!failed) [failed, firstError] = [true, err];
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  if (failed) throw firstError;
}
