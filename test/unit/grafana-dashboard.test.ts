// The Grafana dashboard and the alerts only query metrics some anvil process exports (or the runtime's standard ones),
// with label names those metrics have; the chart ships the dashboard as a sidecar ConfigMap.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DASHBOARD = join(ROOT, 'charts', 'anvil', 'dashboards', 'anvil.json');

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  gridPos: { x: number; y: number; w: number; h: number };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

/** Every metric the processes define, with its label names, read from the prom-client constructors in the source. */
function exportedMetrics(): Map<string, Set<string>> {
  const metrics = new Map<string, Set<string>>();
  const ctor = /new (?:Counter|Gauge|Histogram|Summary)\(\{\s*name: '([a-z_:]+)'([\s\S]*?)\}\)/g;
  for (const file of ['operator/src', 'boot-server/src', 'shared/src'].flatMap((d) => sourceFiles(join(ROOT, d)))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(ctor)) {
      const labels = /labelNames: \[([^\]]*)\]/.exec(m[2]!)?.[1] ?? '';
      metrics.set(m[1]!, new Set([...labels.matchAll(/'([a-z_]+)'/g)].map((l) => l[1]!)));
    }
  }
  return metrics;
}

// Labels Prometheus adds to every scraped series, and the histogram bucket label.
const TARGET_LABELS = new Set(['namespace', 'job', 'pod', 'instance', 'service', 'container', 'le']);
const PROMQL_WORDS = new Set(['sum', 'max', 'min', 'avg', 'count', 'by', 'without', 'rate', 'increase', 'histogram_quantile', 'time', 'absent', 'or', 'and', 'unless', 'on', 'ignoring', 'humanize']);

/** Metric names and the label names used with each in a PromQL expression (good enough for the expressions we write). */
function queried(expr: string): { metric: string; labels: string[] }[] {
  const out: { metric: string; labels: string[] }[] = [];
  const clean = expr.replace(/\[[^\]]*\]/g, '').replace(/"[^"]*"/g, '""');
  const grouping = [...clean.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((s) => s.trim()));
  for (const m of clean.matchAll(/\b([a-z_:][a-z0-9_:]*)(\{[^}]*\})?/g)) {
    const name = m[1]!;
    if (PROMQL_WORDS.has(name) || grouping.includes(name) || /^\d/.test(name)) continue;
    if (m[2] === undefined && /^(le|result|state|route|outcome|sink|controller|name|template|reason|host|host_namespace)$/.test(name)) continue;
    const selectorLabels = [...(m[2] ?? '').matchAll(/([a-z_]+)\s*(=~|!=|=)/g)].map((l) => l[1]!);
    out.push({ metric: name, labels: [...selectorLabels, ...grouping] });
  }
  return out;
}

const baseName = (metric: string): string => metric.replace(/_(bucket|sum|count)$/, '');

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; panels: Panel[]; templating: { list: { name: string }[] } };
  const metrics = exportedMetrics();

  it('finds the metrics in the source (the check below can fail)', () => {
    expect(metrics.get('anvil_installs_total')).toEqual(new Set(['host_namespace', 'template', 'result', 'reason']));
    expect(metrics.has('controller_runtime_reconcile_total')).toBe(true);
    expect(metrics.size).toBeGreaterThan(20);
  });

  it('queries only exported metrics, by labels they have', () => {
    const problems: string[] = [];
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => [p.title, t.expr] as const));
    expect(exprs.length).toBeGreaterThan(15);
    for (const [title, expr] of exprs) {
      const uses = queried(expr);
      if (!uses.length) problems.push(`${title}: no metric in ${expr}`);
      for (const { metric, labels } of uses) {
        const known = metrics.get(metric) ?? metrics.get(baseName(metric));
        if (!known) {
          problems.push(`${title}: ${metric} is not exported by any anvil process`);
          continue;
        }
        for (const l of labels) if (!known.has(l) && !TARGET_LABELS.has(l)) problems.push(`${title}: ${metric} has no label ${l}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('lays panels out without overlaps and has a data source and namespace variable', () => {
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const key = `${x},${y}`;
          if (cells.has(key)) throw new Error(`panel "${p.title}" overlaps another at ${key}`);
          cells.add(key);
        }
      }
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    }
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'namespace']);
  });
});

describe('PrometheusRule alerts', () => {
  it('query only exported metrics', () => {
    const metrics = exportedMetrics();
    const template = readFileSync(join(ROOT, 'charts', 'anvil', 'templates', 'prometheusrule.yaml'), 'utf8');
    const exprs = [...template.matchAll(/expr: (.*)$/gm)].map((m) => m[1]!.replace(/\{\{[^}]*\}\}/g, 'X'));
    expect(exprs.length).toBeGreaterThan(5);
    const unknown = exprs.flatMap((e) => queried(e).map((q) => q.metric)).filter((m) => !['up'].includes(m) && !metrics.has(m) && !metrics.has(baseName(m)));
    expect(unknown).toEqual([]);
  });
});
