// --discovery=create: a machine that network-boots with a MAC no BareMetalHost declares gets a BareMetalHost of its
// own, labelled anvil.dev/discovered, without a templateRef (the operator keeps it in state Discovered, never
// installing it), with the facts its iPXE reported in status.discovery. The user accepts it by setting
// spec.templateRef. One object per machine however often it boots: its name follows from the MAC, and a MAC some
// host already declares (in the boot-server's namespaces) is left alone.
import type { Logger } from 'pino';
import { AnvilResources, DISCOVERED_LABEL, type BareMetalHost } from '@anvil/core/api';
import { normalizeMac } from '@anvil/core/bootconfig';
import { ApiError, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { DiscoveryBudget } from '../history/discovery-budget.js';
import type { Sink } from '../spool/shipper.js';
import type { BootRequestRecord, SpoolRecord } from '../spool/records.js';
import { CreationRate } from './creation-rate.js';

type Host = BareMetalHost & KubeObject;

export interface DiscoveredHostSinkOptions {
  /** Where the hosts are created. */
  namespace: string;
  /** The namespaces whose hosts count as declaring a MAC (the boot-server's); all when empty. */
  scope: readonly string[];
  createsPerMinute: number;
}

export interface DiscoveryCounts {
  created: number;
  /** Unknown MACs some BareMetalHost declares already (its boot config is not published yet). */
  declared: number;
  /** Sightings beyond the discovery budget or the creation rate: created on a later boot. */
  deferred: number;
  /** Creations the API server refused for good (RBAC, a name taken by another host, an invalid object). */
  refused: number;
}

/** The name of the BareMetalHost made for a MAC: `discovered-525400123456`. */
export const discoveredHostName = (mac: string): string => `discovered-${normalizeMac(mac).replaceAll(':', '')}`;

/** How long a MAC found declared (or handled) is not looked up again. */
const REMEMBER_MS = 5 * 60_000;
const PAGE = 500;

export class DiscoveredHostSink implements Sink<SpoolRecord> {
  readonly name = 'discovered-hosts';
  readonly counts: DiscoveryCounts = { created: 0, declared: 0, deferred: 0, refused: 0 };
  /** MAC → until when it needs no look-up (created, found existing, or declared by a host). */
  private readonly handled = new Map<string, number>();
  private readonly budget = new DiscoveryBudget();
  private readonly rate: CreationRate;

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    private readonly options: DiscoveredHostSinkOptions,
  ) {
    this.rate = new CreationRate(options.createsPerMinute);
  }

  async ship(records: SpoolRecord[]): Promise<void> {
    // The first sighting of each unknown MAC in the batch; a later one adds nothing (the facts are the first boot's).
    const sightings = new Map<string, BootRequestRecord>();
    for (const r of records) {
      if (r.kind !== 'boot-request' || r.host) continue;
      const mac = normalizeMac(r.mac);
      const time = Date.parse(r.time);
      if (sightings.has(mac) || (this.handled.get(mac) ?? -Infinity) > time) continue;
      if (!this.budget.admit(mac, r.clientIP, time)) {
        this.counts.deferred++;
        continue;
      }
      sightings.set(mac, r);
    }
    if (!sightings.size) return;

    const declared = await this.declaredMacs();
    for (const [mac, sighting] of sightings) {
      const time = Date.parse(sighting.time);
      if (declared.has(mac)) {
        this.counts.declared++;
        this.handled.set(mac, time + REMEMBER_MS);
        continue;
      }
      if (!this.rate.take(time)) {
        this.counts.deferred++;
        continue;
      }
      // a refusal is not tried again at every boot either: RBAC fixed, it is created at a boot a few minutes later
      await this.createFor(mac, sighting);
      this.handled.set(mac, time + REMEMBER_MS);
    }
    this.forgetOld();
  }

  /** Creates (or finds) the host of `mac` and writes its facts; false when the API server refused it for good. */
  private async createFor(mac: string, sighting: BootRequestRecord): Promise<boolean> {
    const { namespace } = this.options;
    const name = discoveredHostName(mac);
    const host: Host = {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'BareMetalHost',
      metadata: { name, namespace, labels: { [DISCOVERED_LABEL]: 'true', ...factLabels(sighting.facts) } },
      spec: { bootMACAddress: mac, ...specFacts(sighting.facts) },
    };
    try {
      await this.client.create(AnvilResources.bareMetalHost, host);
      this.counts.created++;
      this.log.info({ host: `${namespace}/${name}`, mac, facts: sighting.facts ?? {} }, 'unknown machine: created a Discovered BareMetalHost; set spec.templateRef to install it');
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code !== 409) return this.refused(mac, name, err);
      // made by an earlier run (whose facts may not have been written), or a name some other host took
      const existing = await this.client.get<Host>(AnvilResources.bareMetalHost, { namespace, name });
      if (!existing) throw err; // deleted in between: the next batch tries again
      if (existing.metadata.labels?.[DISCOVERED_LABEL] !== 'true' || normalizeMac(existing.spec.bootMACAddress) !== mac) {
        return this.refused(mac, name, new ApiError(409, 'AlreadyExists', `the name ${namespace}/${name} is taken by a host that is not the discovered host of ${mac}`));
      }
      if (existing.status?.discovery) return true;
    }
    await this.writeFacts(namespace, name, sighting);
    return true;
  }

  private async writeFacts(namespace: string, name: string, sighting: BootRequestRecord): Promise<void> {
    const discovery = { firstSeen: sighting.time, ...(sighting.clientIP ? { clientIP: sighting.clientIP } : {}), ...sighting.facts };
    try {
      await this.client.patch(AnvilResources.bareMetalHost, { namespace, name }, 'merge', { status: { discovery } }, { subresource: 'status' });
    } catch (err) {
      // deleted by the user already: nothing to describe
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
  }

  private refused(mac: string, name: string, err: ApiError): false {
    // 5xx and connection errors are thrown (the shipper tries again); these do not get better by retrying
    if (err.code >= 500 || err.code === 429) throw err;
    this.counts.refused++;
    this.log.error({ mac, host: `${this.options.namespace}/${name}`, code: err.code, reason: err.message }, 'could not create the Discovered BareMetalHost (check the boot-server\'s RBAC: create on baremetalhosts in the discovery namespace)');
    return false;
  }

  /** Every boot MAC the hosts in scope declare, but for the discovered ones. */
  private async declaredMacs(): Promise<Set<string>> {
    const macs = new Set<string>();
    const scopes = this.options.scope.length ? this.options.scope : [undefined];
    for (const namespace of scopes) {
      let cont: string | undefined;
      do {
        const page = await this.client.list<Host>(AnvilResources.bareMetalHost, { ...(namespace ? { namespace } : {}), limit: PAGE, ...(cont ? { continue: cont } : {}) });
        for (const h of page.items) {
          // a host this sink made is the machine's own, not a declaration (its facts may still have to be written)
          if (h.spec?.bootMACAddress && h.metadata.labels?.[DISCOVERED_LABEL] !== 'true') macs.add(normalizeMac(h.spec.bootMACAddress));
        }
        cont = page.continue;
      } while (cont);
    }
    return macs;
  }

  private forgetOld(): void {
    if (this.handled.size < 10_000) return;
    const newest = Math.max(...this.handled.values());
    for (const [mac, until] of this.handled) if (until < newest - REMEMBER_MS) this.handled.delete(mac);
  }
}

/**
 * What the facts tell of the spec: the firmware (iPXE's platform) and the CPU family (a BIOS iPXE is an i386 build
 * on any x86 machine). Without them the API server's defaults apply (UEFI, amd64).
 */
function specFacts(facts: Record<string, string> | undefined): Pick<BareMetalHost['spec'], 'bootMode' | 'architecture'> {
  const bootMode = facts?.platform === 'pcbios' ? 'legacy' : facts?.platform === 'efi' ? 'UEFI' : undefined;
  const architecture = facts?.arch === 'arm64' ? 'arm64' : facts?.arch === 'x86_64' || facts?.arch === 'i386' ? 'amd64' : undefined;
  return { ...(bootMode ? { bootMode } : {}), ...(architecture ? { architecture } : {}) };
}

/** Facts as labels, for selectors (`-l anvil.dev/arch=x86_64`); a value a label cannot hold is left out. */
function factLabels(facts: Record<string, string> | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const key of ['arch', 'platform'] as const) {
    const v = facts?.[key];
    if (v && /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(v)) labels[`anvil.dev/${key}`] = v;
  }
  return labels;
}
