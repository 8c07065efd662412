import type { BareMetalHost } from '../../shared/src/api/index.js';
import type { KubeObject } from '../../shared/src/kube/index.js';

export function age(from: string | undefined, now: Date): string {
  if (!from) return '-';
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(from)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function hostsTable(hosts: (BareMetalHost & KubeObject)[], withNamespace: boolean, now: Date): string {
  const header = [...(withNamespace ? ['NAMESPACE'] : []), 'NAME', 'STATE', 'MAC', 'TEMPLATE', 'PROGRESS', 'ATTEMPT', 'AGE'];
  const rows = hosts
    .slice()
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))
    .map((h) => [
      ...(withNamespace ? [h.metadata.namespace ?? ''] : []),
      h.metadata.name ?? '',
      h.status?.state ?? 'Pending',
      h.spec.bootMACAddress,
      h.spec.templateRef?.name ?? '-',
      h.status?.currentInstall?.progress ?? '-',
      String(h.status?.currentInstall?.attempt ?? '-'),
      age(h.metadata.creationTimestamp, now),
    ]);
  const widths = header.map((_, i) => Math.max(header[i]!.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('   ').trimEnd()).join('\n');
}
