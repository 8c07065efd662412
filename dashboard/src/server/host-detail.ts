// The host view's data: status and conditions from the cache, and each recent attempt's timeline as nested phases
// (derivePhases, as `anvil history` shows it) from the install history. What could hold a secret stays out:
// spec.variables, spec.bmc (its address may carry credentials), annotations; secretRefs are names only.
import { derivePhases, type BootRequest, type Installation, type Phase, type StoredInstallerEvent } from '@anvil/core/db';
import type { BareMetalHost } from '@anvil/core/api';
import { hostRow, type HostRow } from './host-rows.js';
import type { HistoryReader } from './ports.js';

/** Past attempts shown with their timelines besides the current one. */
export const PAST_ATTEMPTS = 5;
/** The host's latest boot requests shown (their paths are stored with tokens redacted by the boot-server). */
export const BOOT_REQUESTS = 20;
const MAX_EVENTS = 5000;

export interface AttemptView {
  installation: Installation;
  current: boolean;
  phases: Phase[];
  /** The deepest failed phase (the failed stage), when the attempt failed. */
  failedPhase: number | null;
  eventCount: number;
}

export interface HostDetail {
  host: HostRow;
  spec: {
    bootMACAddress: string;
    architecture: string | null;
    templateRef: string | null;
    provisioning: { revision: number | null; allowed: boolean | null; maxRetries: number | null; timeoutSeconds: number | null };
    online: boolean | null;
    powerControl: boolean;
    secretRefs: { variable: string; secret: string; key: string | null }[];
  };
  status: Omit<NonNullable<BareMetalHost['status']>, 'bootConfig'>;
  /** Whether the install history could be read (the operator has no database with the embedded store). */
  history: 'available' | 'unavailable' | 'error';
  historyMessage?: string;
  attempts: AttemptView[];
  bootRequests: BootRequest[];
}

export async function allEvents(history: HistoryReader, installationId: string): Promise<StoredInstallerEvent[]> {
  const out: StoredInstallerEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await history.listInstallerEvents(installationId, { limit: 1000, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && out.length < MAX_EVENTS);
  return out;
}

function failedPhaseOf(phases: readonly Phase[]): number | null {
  let found: number | null = null;
  phases.forEach((p, i) => {
    if (p.result === 'FAIL' && (found === null || p.depth >= phases[found]!.depth)) found = i;
  });
  return found;
}

async function attemptView(history: HistoryReader, installation: Installation, current: boolean): Promise<AttemptView> {
  const events = await allEvents(history, installation.id);
  const phases = derivePhases(events);
  return { installation, current, phases, failedPhase: failedPhaseOf(phases), eventCount: events.length };
}

export async function hostDetail(host: BareMetalHost, history: HistoryReader | undefined): Promise<HostDetail> {
  const spec = host.spec;
  const { bootConfig: _published, ...status } = host.status ?? {};
  const detail: HostDetail = {
    host: hostRow(host),
    spec: {
      bootMACAddress: spec.bootMACAddress,
      architecture: spec.architecture ?? null,
      templateRef: spec.templateRef?.name ?? null,
      provisioning: {
        revision: spec.provisioning?.revision ?? null,
        allowed: spec.provisioning?.allowed ?? null,
        maxRetries: spec.provisioning?.maxRetries ?? null,
        timeoutSeconds: spec.provisioning?.timeoutSeconds ?? null,
      },
      online: spec.online ?? null,
      powerControl: spec.bmc !== undefined,
      secretRefs: (spec.secretRefs ?? []).map((r) => ({ variable: r.variable, secret: r.name, key: r.key ?? null })),
    },
    status,
    history: history ? 'available' : 'unavailable',
    attempts: [],
    bootRequests: [],
  };
  if (!history) return detail;
  try {
    const key = { namespace: host.metadata.namespace ?? '', name: host.metadata.name ?? '' };
    const page = await history.listInstallations(key, { limit: PAST_ATTEMPTS + 1 });
    const currentId = host.status?.currentInstall?.installationId;
    const [attempts, boots] = await Promise.all([
      Promise.all(page.items.map((inst) => attemptView(history, inst, inst.id === currentId))),
      history.listBootRequests(spec.bootMACAddress, { limit: BOOT_REQUESTS }),
    ]);
    detail.attempts = attempts;
    detail.bootRequests = boots.items;
  } catch (err) {
    detail.history = 'error';
    detail.historyMessage = `the install history could not be read: ${(err as Error).message}`;
  }
  return detail;
}
