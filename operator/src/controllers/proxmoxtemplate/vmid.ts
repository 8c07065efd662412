// VMID allocation. PVE reserves nothing (/cluster/nextid only reports), so several builders can pick the same VMID:
// the choice is saved in status before the create, a create that finds the VMID taken adds it to the build's
// takenVmids and the next reconcile picks again, and after the create the VM's owner marker is checked.
import type { ProxmoxApi } from '../../proxmox/ports.js';

/** How many candidates of a range are asked about per reconcile (a range can be large). */
const CANDIDATES_PER_PASS = 256;

export type VmidChoice = { vmid: number } | { exhausted: string };

export async function chooseVmid(api: ProxmoxApi, range: { min: number; max: number } | undefined, taken: readonly number[]): Promise<VmidChoice> {
  if (!range) return { vmid: await api.nextId() };
  if (range.max < range.min) return { exhausted: `spec.vm.vmidRange is empty (min ${range.min} > max ${range.max})` };
  // The node's own VMs rule most candidates out in one call; isVmidFree asks the cluster about the rest.
  const used = new Set([...(await api.listVms()).map((v) => v.vmid), ...taken]);
  let asked = 0;
  for (let vmid = range.min; vmid <= range.max && asked < CANDIDATES_PER_PASS; vmid++) {
    if (used.has(vmid)) continue;
    asked++;
    if (await api.isVmidFree(vmid)) return { vmid };
  }
  if (asked >= CANDIDATES_PER_PASS) return { exhausted: `no free VMID among the first ${CANDIDATES_PER_PASS} candidates of ${range.min}..${range.max}; will look again` };
  return { exhausted: `every VMID in spec.vm.vmidRange ${range.min}..${range.max} is in use` };
}
