// One reconcile's run of the phase table: connect, check the PVE version, then run handlers until one returns a
// ReconcileResult (a handler that entered another phase returns NEXT, and that phase's handler runs at once).
// Errors a handler throws become status and a retry here; the Ready and Building conditions follow at the end.
import { commitThenContinue, requeueAfter, type ReconcileResult } from '../../runtime/result.js';
import { C, condition, NEXT, type TemplateContext } from './context.js';
import { errorResult } from './failure.js';
import { PHASES } from './phase-table.js';
import { summarize } from './summary.js';

const MAX_STEPS_PER_RECONCILE = 10;

export async function runTemplatePhases(ctx: TemplateContext, phases = PHASES): Promise<ReconcileResult> {
  try {
    ctx.api = await ctx.ports.connect(ctx.template);
    const phase = ctx.status.phase ?? 'Pending';
    ctx.status.phase = phase;
    if (phase === 'Pending' || phase === 'Ready' || phase === 'Failed' || !isConnected(ctx)) {
      const unsupported = await checkVersion(ctx);
      if (unsupported) return unsupported;
    }
    for (let i = 0; i < MAX_STEPS_PER_RECONCILE; i++) {
      const step = await phases[ctx.status.phase ?? 'Pending'](ctx);
      if (step !== NEXT) return step;
    }
    // A loop between phases: save where it got to and carry on in the next reconcile.
    return commitThenContinue();
  } catch (err) {
    return errorResult(ctx, err);
  } finally {
    summarize(ctx);
  }
}

const isConnected = (ctx: TemplateContext): boolean => ctx.status.conditions?.find((c) => c.type === C.Connected)?.status === 'True';

/** Connected follows the version check; a PVE older than anvil supports is retried slowly, as a config problem is. */
async function checkVersion(ctx: TemplateContext): Promise<ReconcileResult | undefined> {
  const v = await ctx.api.version();
  ctx.status.pveVersion = v.version;
  const [major = 0, minor = 0] = (v.release || v.version).split('.').map((n) => parseInt(n, 10));
  const [minMajor, minMinor] = ctx.config.minPveRelease;
  if (major < minMajor || (major === minMajor && minor < minMinor)) {
    const message = `Proxmox VE ${v.version} is not supported: anvil needs ${minMajor}.${minMinor} or newer (download-url with content=import)`;
    condition(ctx, { type: C.Connected, status: 'False', reason: 'UnsupportedVersion', message });
    ctx.status.message = message;
    return requeueAfter(ctx.config.retryMaxMs);
  }
  condition(ctx, { type: C.Connected, status: 'True', reason: 'Connected', message: `Proxmox VE ${v.version} on node ${ctx.api.node}` });
  return undefined;
}
