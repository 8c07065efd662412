// What the rollout sees of the hosts that follow a template: which revision each runs or installs, whether that
// install finished or failed, and its health after the install.
import { DISCOVERED_LABEL, type AutoinstallTemplate, type AutoinstallTemplateStatus, type BareMetalHost } from '@anvil/core/api';
import type { HostView } from '../../rollout/index.js';

export type HealthEntry = NonNullable<NonNullable<AutoinstallTemplateStatus['rollout']>['health']>[number];

/** Hosts using the template (and matching its hostSelector), by name: the rollout's stable order. */
export function followers(template: AutoinstallTemplate, hosts: readonly BareMetalHost[]): BareMetalHost[] {
  const selector = template.spec.rollout?.hostSelector ?? {};
  return hosts
    .filter((h) => h.spec.templateRef?.name === template.metadata.name && !h.metadata.deletionTimestamp && h.metadata.labels?.[DISCOVERED_LABEL] === undefined)
    .filter((h) => Object.entries(selector).every(([k, v]) => h.metadata.labels?.[k] === v))
    .sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
}

/** The content hash of the revision the host runs, or is installing now. */
export function revisionOfHost(host: BareMetalHost): string | undefined {
  return host.status?.currentInstall?.template?.contentHash ?? host.status?.recentInstalls?.[0]?.template?.contentHash;
}

const INSTALLING = new Set(['Provisioning', 'Installing']);

export function hostView(host: BareMetalHost, health: readonly HealthEntry[], hasChecks: boolean): HostView {
  const ci = host.status?.currentInstall;
  const state = host.status?.state;
  const install: HostView['install'] = state && INSTALLING.has(state) ? 'installing' : state === 'Provisioned' ? 'installed' : state === 'Failed' ? 'failed' : 'none';
  const entry = ci?.installationId ? health.find((e) => e.host === host.metadata.name && e.installationId === ci.installationId) : undefined;
  const revision = revisionOfHost(host);
  return {
    key: host.metadata.name!,
    ...(revision ? { revision } : {}),
    install,
    health: install !== 'installed' ? 'pending' : !hasChecks ? 'passed' : (entry?.verdict ?? 'pending'),
    ...(ci?.startedAt ? { installStartedAt: ci.startedAt } : {}),
  };
}
