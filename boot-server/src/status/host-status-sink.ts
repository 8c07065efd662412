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
  ) {}

  async ship(records: SpoolRecord[]): Promise<void> {
    // Only the newest boot request per host matters for status.
    const boots = new Map<string, BootRequestRecord>();
    const events = new Map<string, InstallerEventRecord[]>();
    for (const r of records) {
      if (r.kind === 'boot-request' && r.host) boots.set(`${r.host.namespace}/${r.host.name}`, r);
      if (r.kind === 'installer-event') events.set(r.installationId, [...(events.get(r.installationId) ?? []), r]);
    }
    for (const r of boots.values()) {
      await this.apply(r.host!.namespace, r.host!.name, bootRequestPatch({ time: r.time, clientIP: r.clientIP, path: r.path, served: r.served }, true), 'boot request');
    }
    for (const [installationId, list] of events) {
      const { namespace, name } = list[0]!.host;
      await this.apply(namespace, name, coalesce(installationId, list), 'installer events');
    }
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
