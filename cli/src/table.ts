// The hosts table: kubectl's printer columns for BareMetalHosts (crds/), plus the install attempt.
import type { BareMetalHost } from '@anvil/core/api';
import type { KubeObject } from '@anvil/core/kube';

export type Host = BareMetalHost & KubeObject;

export function age(from: string | undefined, now: Date): string {
  if (!from) return '-';
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(from)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export interface TableOptions {
  withNamespace: boolean;
  wide: boolean;
}

export function hostsHeader(o: TableOptions): string[] {
  return [
    ...(o.withNamespace ? ['NAMESPACE'] : []),
    'NAME', 'STATE', 'MAC', 'TEMPLATE', 'PROGRESS', 'ATTEMPT', 'AGE',
    ...(o.wide ? ['HOSTNAME', 'REVISION', 'INSTALLED', 'POWER', 'LAST-BOOT', 'MESSAGE'] : []),
  ];
}

/** The column that changes by itself as time passes, left out when deciding whether a row changed. */
export const AGE_COLUMN = 'AGE';

export function hostRow(h: Host, o: TableOptions, now: Date): string[] {
  const s = h.status;
  return [
    ...(o.withNamespace ? [h.metadata.namespace ?? ''] : []),
    h.metadata.name ?? '',
    s?.state ?? 'Pending',
    h.spec.bootMACAddress,
    h.spec.templateRef?.name ?? '-',
    s?.currentInstall?.progress ?? '-',
    String(s?.currentInstall?.attempt ?? '-'),
    age(h.metadata.creationTimestamp, now),
    ...(o.wide
      ? [
          h.spec.hostname ?? h.metadata.name ?? '',
          String(h.spec.provisioning?.revision ?? 0),
          s?.provisionedRevision === undefined ? '-' : String(s.provisionedRevision),
          s?.power?.state ?? '-',
          s?.lastBootRequest ? `${s.lastBootRequest.clientIP ?? '?'} ${s.lastBootRequest.served ?? ''}`.trim() : '-',
          oneLine(s?.errorMessage || s?.currentInstall?.failure?.reason || '', 60) || '-',
        ]
      : []),
  ];
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** By namespace, then name, as kubectl lists them. */
export const sortHosts = (hosts: readonly Host[]): Host[] =>
  [...hosts].sort((a, b) => byCodePoint(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || byCodePoint(a.metadata.name ?? '', b.metadata.name ?? ''));

/** Column widths for these rows, at least `min` (so that the lines of a watch stay under the table's columns). */
export function widthsOf(rows: readonly (readonly string[])[], min: readonly number[] = []): number[] {
  const count = Math.max(0, ...rows.map((r) => r.length));
  return Array.from({ length: count }, (_, i) => Math.max(min[i] ?? 0, ...rows.map((r) => r[i]?.length ?? 0)));
}

export const formatRow = (row: readonly string[], widths: readonly number[]): string => row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('   ').trimEnd();

/** The table as kubectl prints it: columns three spaces apart, no trailing blanks. */
export function hostsTable(hosts: Host[], withNamespace: boolean, now: Date, wide = false): string {
  const o = { withNamespace, wide };
  const rows = [hostsHeader(o), ...sortHosts(hosts).map((h) => hostRow(h, o, now))];
  const widths = widthsOf(rows);
  return rows.map((r) => formatRow(r, widths)).join('\n');
}
