// A VM's power: status/current and the start/stop/shutdown/reboot/reset/suspend/resume tasks (a template cannot
// start; a start fails when a network device names a bridge the node does not have).
import type { SimContext } from './context.js';
import { fail500 } from './errors.js';
import type { Route } from './router.js';
import type { SimVm } from './state.js';
import { usage, vmOf } from './vms.js';

const TASK_TYPES = { start: 'qmstart', stop: 'qmstop', shutdown: 'qmshutdown', reboot: 'qmreboot', reset: 'qmreset', suspend: 'qmsuspend', resume: 'qmresume' };
type PowerAction = keyof typeof TASK_TYPES;
const ACTIONS = Object.keys(TASK_TYPES) as PowerAction[];
/** Actions refused for a VM that is not running. */
const NEEDS_RUNNING: PowerAction[] = ['shutdown', 'reboot', 'reset', 'suspend', 'resume'];

export function vmPowerRoutes(ctx: SimContext): Route[] {
  const status = '/nodes/{node}/qemu/{vmid}/status';
  return [
    {
      method: 'GET',
      template: status,
      handle: (p) => {
        vmOf(ctx, p);
        return { data: ['current', ...ACTIONS].map((subdir) => ({ subdir })) };
      },
    },
    { method: 'GET', template: `${status}/current`, handle: (p) => ({ data: statusCurrent(vmOf(ctx, p)) }) },
    ...ACTIONS.map((action): Route => ({
      method: 'POST',
      template: `${status}/${action}`,
      handle: (p, tokenId) => ({ data: power(ctx, vmOf(ctx, p), action, p, tokenId) }),
    })),
  ];
}

function statusCurrent(vm: SimVm): unknown {
  return {
    vmid: vm.vmid,
    name: vm.config.name,
    status: vm.status,
    qmpstatus: vm.qmpstatus,
    ...usage(vm),
    ...(vm.config.template ? { template: 1 } : {}),
    ...(/^(1|enabled=1)/.test(String(vm.config.agent ?? '')) ? { agent: 1 } : {}),
    ...(vm.config.lock !== undefined ? { lock: vm.config.lock } : {}),
    ha: { managed: 0 },
  };
}

function checkBridges(ctx: SimContext, vm: SimVm): void {
  for (const [key, value] of Object.entries(vm.config)) {
    const bridge = /^net\d+$/.test(key) ? /(?:^|,)bridge=([^,]+)/.exec(String(value))?.[1] : undefined;
    if (bridge && !ctx.bridges.has(bridge)) throw new Error(`bridge '${bridge}' does not exist`);
  }
}

function power(ctx: SimContext, vm: SimVm, action: PowerAction, p: Record<string, string>, tokenId: string): string {
  const vmid = vm.vmid;
  if (NEEDS_RUNNING.includes(action) && vm.status !== 'running') throw fail500(`VM ${vmid} not running`);
  if (vm.config.lock !== undefined && p.skiplock !== '1' && action !== 'stop') throw fail500(`VM ${vmid} is locked (${vm.config.lock})`);
  return ctx.tasks.start(TASK_TYPES[action], String(vmid), tokenId, async (log, wait) => {
    await wait();
    if (action === 'start') {
      if (vm.config.template) throw new Error("you can't start a vm if it's a template");
      if (vm.status === 'running') throw new Error(`VM ${vmid} already running`);
      checkBridges(ctx, vm);
      vm.status = 'running';
      vm.qmpstatus = 'running';
      vm.startedAt = Date.now();
      log(`generating cloud-init ISO`);
    } else if (action === 'stop' || action === 'shutdown') {
      vm.status = 'stopped';
      vm.qmpstatus = 'stopped';
      delete vm.startedAt;
    } else if (action === 'reboot' || action === 'reset') {
      vm.startedAt = Date.now();
    } else if (action === 'suspend') {
      vm.qmpstatus = 'paused';
    } else if (action === 'resume') {
      vm.qmpstatus = 'running';
    }
  }, { lockVmid: vmid });
}
