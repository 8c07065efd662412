// anvil hosts [NAME...] [-A] [-l SELECTOR] [-o wide|json|yaml|name] [-w]: like `kubectl get baremetalhosts`, with the
// install attempt. -w prints the table, then a line for each change of a row (the AGE column aside), until
// interrupted; a watch that ends or expires (410 Gone) is resumed or relisted without repeating unchanged rows.
import { EXIT, UsageError } from '../errors.js';
import { flagBool, flagString, type Cluster, type CommandContext } from '../context.js';
import { asList, formatObject, formatStreamed } from '../output.js';
import { BareMetalHostResource } from '../resources.js';
import { AGE_COLUMN, formatRow, hostRow, hostsHeader, sortHosts, widthsOf, type Host, type TableOptions } from '../table.js';
import { watchHosts } from '../watch-loop.js';

const PAGE = 500;

interface Scope {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  names: readonly string[];
}

async function listAll(cluster: Cluster, scope: Scope): Promise<{ items: Host[]; resourceVersion: string }> {
  const items: Host[] = [];
  let resourceVersion = '';
  let next: string | undefined;
  do {
    const page = await cluster.client.list<Host>(BareMetalHostResource, {
      ...(scope.namespace ? { namespace: scope.namespace } : {}),
      ...(scope.labelSelector ? { labelSelector: scope.labelSelector } : {}),
      ...(scope.fieldSelector ? { fieldSelector: scope.fieldSelector } : {}),
      limit: PAGE,
      ...(next ? { continue: next } : {}),
    });
    items.push(...page.items);
    resourceVersion ||= page.resourceVersion;
    next = page.continue;
  } while (next);
  return { items: scope.names.length ? items.filter((h) => scope.names.includes(h.metadata.name ?? '')) : items, resourceVersion };
}

const keyOf = (h: Host): string => `${h.metadata.namespace}/${h.metadata.name}`;
const nameOf = (h: Host): string => `baremetalhost.anvil.dev/${h.metadata.name}`;
/** The object without what changes on every write, to tell a real change from a no-op update. */
const fingerprint = (h: Host): string => JSON.stringify({ ...h, metadata: { ...h.metadata, resourceVersion: undefined, managedFields: undefined } });

export async function run(ctx: CommandContext): Promise<number> {
  const cluster = await ctx.cluster();
  const all = flagBool(ctx.flags, 'all-namespaces');
  const format = flagString(ctx.flags, 'output');
  const watch = flagBool(ctx.flags, 'watch');
  const withEvents = flagBool(ctx.flags, 'output-watch-events');
  if (all && ctx.args.length) throw new UsageError('hosts NAME and -A do not go together: names are looked up in one namespace (-n)');
  if (withEvents && !watch) throw new UsageError('--output-watch-events goes with -w');
  const names = [...new Set(ctx.args)];
  const selector = flagString(ctx.flags, 'selector');
  const scope: Scope = {
    ...(all ? {} : { namespace: cluster.namespace }),
    ...(selector ? { labelSelector: selector } : {}),
    ...(names.length === 1 ? { fieldSelector: `metadata.name=${names[0]}` } : {}),
    names,
  };
  const { items, resourceVersion } = await listAll(cluster, scope);
  const table: TableOptions = { withNamespace: all, wide: format === 'wide' };
  const printer = new HostPrinter(ctx, format, table, withEvents, !flagBool(ctx.flags, 'no-headers'));

  const missing = names.filter((n) => !items.some((h) => h.metadata.name === n));
  // As kubectl: nothing found is said on stderr, without an empty table (a watch still prints its header).
  if (items.length || watch || (!printer.isTable && !names.length)) printer.initial(sortHosts(items), names.length === 1 && !watch);
  if (!items.length && !names.length && !watch && printer.isTable) {
    process.stderr.write(`No BareMetalHosts found${all ? '' : ` in namespace ${cluster.namespace}`}.\n`);
  }
  if (missing.length && !watch) {
    for (const n of missing) ctx.warn(`BareMetalHost ${cluster.namespace}/${n} not found`);
    return EXIT.request;
  }
  if (!watch) return EXIT.ok;
  return followChanges(ctx, cluster, scope, resourceVersion, printer);
}

/** Prints hosts in the chosen format, and for a watch only the hosts whose output changed. */
class HostPrinter {
  private widths: number[] = [];
  /** Per host: what was printed last (the table row without its AGE, else the object), and the object. */
  private readonly shown = new Map<string, { value: string; host: Host }>();
  private readonly ageIndex: number;

  constructor(
    private readonly ctx: CommandContext,
    private readonly format: string | undefined,
    private readonly table: TableOptions,
    private readonly withEvents: boolean,
    private readonly headers: boolean,
  ) {
    this.ageIndex = hostsHeader(table).indexOf(AGE_COLUMN);
  }

  get isTable(): boolean {
    return this.format === undefined || this.format === 'wide';
  }

  private row(type: string, h: Host): string[] {
    return [...(this.withEvents ? [type] : []), ...hostRow(h, this.table, new Date())];
  }

  /** Records what is shown of the host; false when that is what was shown last. */
  private remember(h: Host): boolean {
    const value = this.isTable ? hostRow(h, this.table, new Date()).filter((_, i) => i !== this.ageIndex).join('\u0000') : fingerprint(h);
    const key = keyOf(h);
    if (this.shown.get(key)?.value === value) return false;
    this.shown.set(key, { value, host: h });
    return true;
  }

  initial(hosts: Host[], single: boolean): void {
    for (const h of hosts) this.remember(h);
    if (this.format === 'json' || this.format === 'yaml') {
      if (this.withEvents) for (const h of hosts) this.ctx.out(formatStreamed({ type: 'ADDED', object: h }, this.format));
      else this.ctx.out(single && hosts.length === 1 ? formatObject(hosts[0], this.format) : formatObject(asList(hosts), this.format));
      return;
    }
    if (this.format === 'name') {
      for (const h of hosts) this.ctx.out(this.withEvents ? `ADDED ${nameOf(h)}` : nameOf(h));
      return;
    }
    const header = [...(this.withEvents ? ['EVENT'] : []), ...hostsHeader(this.table)];
    const rows = hosts.map((h) => this.row('ADDED', h));
    this.widths = widthsOf([header, ...rows]);
    const lines = [...(this.headers ? [header] : []), ...rows].map((r) => formatRow(r, this.widths));
    if (lines.length) this.ctx.out(lines.join('\n'));
  }

  change(type: 'ADDED' | 'MODIFIED' | 'DELETED', h: Host): void {
    if (type === 'DELETED') this.shown.delete(keyOf(h));
    else if (!this.remember(h)) return;
    if (this.format === 'json' || this.format === 'yaml') {
      this.ctx.out(formatStreamed(this.withEvents ? { type, object: h } : h, this.format));
    } else if (this.format === 'name') {
      this.ctx.out(this.withEvents ? `${type} ${nameOf(h)}` : nameOf(h));
    } else {
      const row = this.row(type, h);
      this.widths = widthsOf([row], this.widths);
      this.ctx.out(formatRow(row, this.widths));
    }
  }

  /** After a relist: what changed since, as watch events; hosts gone meanwhile as DELETED. */
  resync(hosts: Host[]): void {
    const present = new Set(hosts.map(keyOf));
    for (const h of sortHosts(hosts)) this.change(this.shown.has(keyOf(h)) ? 'MODIFIED' : 'ADDED', h);
    for (const [key, { host }] of [...this.shown]) if (!present.has(key)) this.change('DELETED', host);
  }
}

async function followChanges(ctx: CommandContext, cluster: Cluster, scope: Scope, resourceVersion: string, printer: HostPrinter): Promise<number> {
  await watchHosts(cluster, ctx.signal, {
    ...(scope.namespace ? { namespace: scope.namespace } : {}),
    ...(scope.labelSelector ? { labelSelector: scope.labelSelector } : {}),
    ...(scope.fieldSelector ? { fieldSelector: scope.fieldSelector } : {}),
    resourceVersion,
    onEvent: (event) => {
      if (event.type === 'ERROR' || event.type === 'BOOKMARK' || (scope.names.length && !scope.names.includes(event.object.metadata.name ?? ''))) return;
      printer.change(event.type, event.object);
    },
    relist: async () => {
      const relisted = await listAll(cluster, scope);
      printer.resync(relisted.items);
      return relisted.resourceVersion;
    },
  });
  return EXIT.ok;
}
