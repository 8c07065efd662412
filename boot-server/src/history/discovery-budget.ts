// How many distinct unknown machines the history records per time window: anyone on the boot network can invent
// MACs, and each new one would be a new discovered_machines row. A real machine asks from its own address with its
// own MAC (a few NICs at most), so a source address that shows many MACs in one window is inventing them; beyond
// its budget, and beyond a budget for all sources together, sightings of further MACs are dropped (and counted).
// MACs already admitted in the window are always recorded: they update their row in place and add nothing.

export interface DiscoveryBudgetOptions {
  /** Distinct MACs recorded per source address per window. */
  perSource: number;
  /** Distinct MACs recorded per window from all sources together. */
  total: number;
  windowMs: number;
}

export const DEFAULT_DISCOVERY_BUDGET: DiscoveryBudgetOptions = { perSource: 32, total: 1000, windowMs: 3_600_000 };

export class DiscoveryBudget {
  private window = -Infinity;
  /** MACs admitted in the current window (at most `total`), and the MACs of each source (as many entries at most). */
  private readonly admitted = new Set<string>();
  private readonly bySource = new Map<string, Set<string>>();
  /** Sightings dropped because a budget was spent (since start, and in the current window). */
  refused = 0;
  private refusedInWindow = 0;
  private noticed = -Infinity;

  constructor(readonly options: DiscoveryBudgetOptions = DEFAULT_DISCOVERY_BUDGET) {}

  /**
   * Whether a sighting of `mac` from `source` at `timeMs` is recorded. Windows follow the records' own times (a
   * record shipped again after a crash is judged the same way); a record older than the current window counts
   * against the current one.
   */
  admit(mac: string, source: string, timeMs: number): boolean {
    const window = Math.floor(timeMs / this.options.windowMs);
    if (window > this.window) {
      this.window = window;
      this.admitted.clear();
      this.bySource.clear();
      this.refusedInWindow = 0;
    }
    if (this.admitted.has(mac)) return true;
    const macs = this.bySource.get(source);
    if ((macs?.size ?? 0) >= this.options.perSource || this.admitted.size >= this.options.total) {
      this.refused++;
      this.refusedInWindow++;
      return false;
    }
    this.admitted.add(mac);
    if (macs) macs.add(mac);
    else this.bySource.set(source, new Set([mac]));
    return true;
  }

  /** True once per window in which sightings were refused: a flood is logged once, not with every batch. */
  takeNotice(): { refused: number } | undefined {
    if (!this.refusedInWindow || this.noticed === this.window) return undefined;
    this.noticed = this.window;
    return { refused: this.refusedInWindow };
  }
}
