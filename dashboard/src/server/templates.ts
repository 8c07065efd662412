// The templates view's data: every AutoinstallTemplate (installer kind, the chain it extends, its content hash, the
// hosts that reference it and the content hash each host's current attempt was rendered with) and every
// ProxmoxTemplate (phase, versions, the build in progress, the last builds with their durations). Names, kinds, counts,
// hashes and phases only: the template bodies (nunjucks text, defaults) never leave the server.
import { DEFAULT_INSTALLER, type AutoinstallTemplate, type BareMetalHost, type ProxmoxTemplate } from '@anvil/core/api';
import type { HistoryReader } from './ports.js';

/** Hosts listed per template (all are counted); each costs one history read for its content hash. */
export const HOSTS_PER_TEMPLATE = 50;
const BUILDS_PER_TEMPLATE = 5;

export interface TemplateHost {
  name: string;
  state: string;
  revision: number | null;
  attempt: number | null;
  /** The template content hash the current attempt was rendered with (from the install history), if known. */
  contentHash: string | null;
  /** Whether that hash is the template's current one; null when either is unknown. */
  upToDate: boolean | null;
}

export interface AutoinstallTemplateRow {
  namespace: string;
  name: string;
  installer: string;
  extends: string | null;
  /** status.resolvedChain: base templates first, this one last. */
  chain: string[];
  valid: string | null;
  validMessage: string | null;
  contentHash: string | null;
  hostCount: number;
  /** null when the user may not list the hosts of this namespace (the count is still given). */
  hosts: TemplateHost[] | null;
  hostsTruncated: boolean;
  /** The newest revision of the chain (status.revisions[0]). */
  revision: number | null;
  /** The rollout of spec.rollout (status.rollout), when the template has one. */
  rollout: { phase: string; targetRevision: number | null; previousRevision: number | null; wave: number | null; waves: number; failedHosts: string[]; message: string | null } | null;
}

export interface ProxmoxTemplateRow {
  namespace: string;
  name: string;
  phase: string | null;
  activeVersion: number | null;
  vmid: number | null;
  templateName: string | null;
  message: string | null;
  versions: { version: number; vmid: number; name: string | null; createdAt: string | null }[];
  build: { version: number | null; step: string | null; startedAt: string | null; failures: number } | null;
  currentTask: { type: string | null; node: string | null; startedAt: string | null } | null;
  lastFailedTask: { type: string | null; exitStatus: string | null; finishedAt: string | null } | null;
  /** The last builds from the install history, newest first ([] without a history). */
  builds: { version: string; startedAt: string; finishedAt: string | null; durationSeconds: number | null; result: string | null; failureReason: string | null }[];
}

export interface TemplatesView {
  autoinstall: AutoinstallTemplateRow[];
  proxmox: ProxmoxTemplateRow[];
  history: 'available' | 'unavailable';
}

const byName = <T extends { metadata: { namespace?: string; name?: string } }>(a: T, b: T): number =>
  `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`);

async function templateHost(host: BareMetalHost, templateHash: string | null, history: HistoryReader | undefined): Promise<TemplateHost> {
  const current = host.status?.currentInstall;
  const installation = history && current?.installationId ? await history.getInstallation(current.installationId).catch(() => undefined) : undefined;
  const contentHash = installation?.template.contentHash ?? null;
  return {
    name: host.metadata.name ?? '',
    state: host.status?.state ?? 'Pending',
    revision: host.spec.provisioning?.revision ?? null,
    attempt: current?.attempt ?? null,
    contentHash,
    upToDate: contentHash && templateHash ? contentHash === templateHash : null,
  };
}

async function autoinstallRow(t: AutoinstallTemplate, users: BareMetalHost[] | undefined, count: number, history: HistoryReader | undefined): Promise<AutoinstallTemplateRow> {
  const valid = t.status?.conditions?.find((c) => c.type === 'Valid');
  const contentHash = t.status?.contentHash ?? null;
  const shown = users?.slice(0, HOSTS_PER_TEMPLATE);
  return {
    namespace: t.metadata.namespace ?? '',
    name: t.metadata.name ?? '',
    installer: t.spec.installer ?? DEFAULT_INSTALLER,
    extends: t.spec.extends ?? null,
    chain: t.status?.resolvedChain ?? [],
    valid: valid?.status ?? null,
    validMessage: valid?.status === 'False' ? (valid.message ?? null) : null,
    contentHash,
    hostCount: count,
    hosts: shown ? await Promise.all(shown.map((h) => templateHost(h, contentHash, history))) : null,
    hostsTruncated: (users?.length ?? 0) > HOSTS_PER_TEMPLATE,
    revision: t.status?.revisions?.[0]?.revision ?? null,
    rollout: rolloutOf(t),
  };
}

function rolloutOf(t: AutoinstallTemplate): AutoinstallTemplateRow['rollout'] {
  const r = t.status?.rollout;
  if (!t.spec.rollout || !r?.phase) return null;
  return {
    phase: r.phase,
    targetRevision: r.targetRevision ?? null,
    previousRevision: r.previousRevision ?? null,
    wave: r.wave ?? null,
    waves: r.waves?.length ?? 0,
    failedHosts: r.failedHosts ?? [],
    message: r.message ?? null,
  };
}

async function proxmoxRow(t: ProxmoxTemplate, history: HistoryReader | undefined): Promise<ProxmoxTemplateRow> {
  const s = t.status ?? {};
  const key = { namespace: t.metadata.namespace ?? '', name: t.metadata.name ?? '' };
  const builds = history ? (await history.listTemplateBuilds(key, { limit: BUILDS_PER_TEMPLATE })).items : [];
  return {
    ...key,
    phase: s.phase ?? null,
    activeVersion: s.activeVersion ?? null,
    vmid: s.vmid ?? null,
    templateName: s.templateName ?? null,
    message: s.message ?? null,
    versions: (s.versions ?? []).map((v) => ({ version: v.version, vmid: v.vmid, name: v.name ?? null, createdAt: v.createdAt ?? null })),
    build: s.build ? { version: s.build.version ?? null, step: s.build.step ?? null, startedAt: s.build.startedAt ?? null, failures: s.build.failures ?? 0 } : null,
    currentTask: s.currentTask ? { type: s.currentTask.type ?? null, node: s.currentTask.node ?? null, startedAt: s.currentTask.startedAt ?? null } : null,
    // The task log stays out: it is PVE's text, shown by kubectl; the exit status says what failed.
    lastFailedTask: s.lastFailedTask ? { type: s.lastFailedTask.type ?? null, exitStatus: s.lastFailedTask.exitStatus ?? null, finishedAt: s.lastFailedTask.finishedAt ?? null } : null,
    builds: builds.map((b) => ({
      version: b.version,
      startedAt: b.startedAt.toISOString(),
      finishedAt: b.finishedAt?.toISOString() ?? null,
      durationSeconds: b.finishedAt ? Math.round((b.finishedAt.getTime() - b.startedAt.getTime()) / 1000) : null,
      result: b.result,
      failureReason: b.failureReason,
    })),
  };
}

export interface TemplatesInput {
  autoinstall: AutoinstallTemplate[];
  proxmox: ProxmoxTemplate[];
  hosts: BareMetalHost[];
  /** Whether the user may list the hosts of a namespace (their names are shown only then). */
  hostsVisible: (namespace: string) => boolean;
  history: HistoryReader | undefined;
}

export async function templatesView(input: TemplatesInput): Promise<TemplatesView> {
  const users = new Map<string, BareMetalHost[]>();
  for (const h of input.hosts) {
    const ref = h.spec.templateRef?.name;
    if (!ref) continue;
    const key = `${h.metadata.namespace}/${ref}`;
    (users.get(key) ?? users.set(key, []).get(key)!).push(h);
  }
  const autoinstall = await Promise.all(
    [...input.autoinstall].sort(byName).map((t) => {
      const hosts = (users.get(`${t.metadata.namespace}/${t.metadata.name}`) ?? []).sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
      return autoinstallRow(t, input.hostsVisible(t.metadata.namespace ?? '') ? hosts : undefined, hosts.length, input.history);
    }),
  );
  const proxmox = await Promise.all([...input.proxmox].sort(byName).map((t) => proxmoxRow(t, input.history)));
  return { autoinstall, proxmox, history: input.history ? 'available' : 'unavailable' };
}
