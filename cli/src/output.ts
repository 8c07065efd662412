// What commands print: text as is, objects as JSON or YAML (a List when there are several, as kubectl prints them).
import { stringify } from 'yaml';

export type ObjectFormat = 'json' | 'yaml';

/** One object, or a kubectl-style List of them. */
export function formatObject(value: unknown, format: ObjectFormat): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { lineWidth: 0 });
}

export function asList(items: readonly unknown[]): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items };
}

/** For `-w -o yaml`: each object its own YAML document. */
export function formatStreamed(value: unknown, format: ObjectFormat): string {
  return format === 'yaml' ? `---\n${formatObject(value, format)}` : formatObject(value, format);
}

/** RFC 3339 without milliseconds, as kubectl prints times. */
export const isoSeconds = (d: Date | string | null | undefined): string => {
  if (!d) return '-';
  const date = typeof d === 'string' ? new Date(d) : d;
  return Number.isFinite(date.getTime()) ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : String(d);
};
