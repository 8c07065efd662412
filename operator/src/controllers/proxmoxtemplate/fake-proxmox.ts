// An in-memory Proxmox VE node for unit tests of the phase handlers: the ProxmoxApi the real client implements, with
// VMs, import volumes and tasks that stay running until the test ends them (finishTask), so every state a handler
// can meet (task running, failed, gone; VM locked, someone else's) is set up directly and deterministically.
// test/proxmox-sim is the schema-checked HTTP simulator the integration tests use; this is its small in-process kin.
import { ProxmoxError, ProxmoxTaskError, type ProxmoxErrorCode } from '../../proxmox/errors.js';
import type { DeleteVmOptions, DownloadUrlRequest, ProxmoxApi, PveParams, PveVersion, StorageVolume } from '../../proxmox/ports.js';
import type { TaskLogLine, TaskResult, TaskStatus, VmConfig, VmListEntry, VmStatus } from '../../proxmox/ports.js';

export interface FakeTask {
  upid: string;
  type: string;
  id: string;
  exitStatus?: string;
  /** What the task does to the node when it ends with OK. */
  effect: () => void;
  /** What a failed task leaves behind (a failed create removes its VM). */
  undo?: () => void;
}

type ApiMethod = keyof ProxmoxApi;

export function pveError(code: ProxmoxErrorCode, pveMessage: string, transient = false): ProxmoxError {
  return new ProxmoxError({ code, status: code === 'network' ? 0 : 500, pveMessage, transient });
}

export class FakeProxmox implements ProxmoxApi {
  readonly node = 'pve';
  release: PveVersion = { version: '8.4.1', release: '8.4', repoid: 'fake' };
  readonly vms = new Map<number, VmConfig>();
  readonly volumes: StorageVolume[] = [];
  readonly tasks = new Map<string, FakeTask>();
  /** VMIDs used elsewhere in the cluster: not on this node's list, but not free either. */
  readonly usedElsewhere = new Set<number>();
  /** Every call that changes the node, in order ("createVm 100", "downloadUrl local:import/x.qcow2"). */
  readonly changes: string[] = [];
  private readonly faults = new Map<ApiMethod, Error>();
  private seq = 0;

  /** The next call of `method` throws `err`. */
  failNext(method: ApiMethod, err: Error): void {
    this.faults.set(method, err);
  }

  /** Ends a running task: OK applies its effect, anything else is a failure with that exit status. */
  finishTask(upid: string, exitStatus = 'OK'): void {
    const task = this.tasks.get(upid);
    if (!task || task.exitStatus !== undefined) throw new Error(`no running task ${upid}`);
    task.exitStatus = exitStatus;
    if (exitStatus === 'OK') task.effect();
    else task.undo?.();
  }

  /** A template VM as a finished build (or someone else) leaves it. */
  addVm(vmid: number, config: VmConfig): void {
    this.vms.set(vmid, { ...config });
  }

  addVolume(volid: string): void {
    this.volumes.push({ volid, format: 'qcow2', size: 1 << 30, content: 'import' });
  }

  runningTasks(): FakeTask[] {
    return [...this.tasks.values()].filter((t) => t.exitStatus === undefined);
  }

  async version(): Promise<PveVersion> {
    this.fault('version');
    return this.release;
  }

  async nextId(): Promise<number> {
    this.fault('nextId');
    let vmid = 100;
    while (!(await this.isVmidFree(vmid))) vmid++;
    return vmid;
  }

  async isVmidFree(vmid: number): Promise<boolean> {
    this.fault('isVmidFree');
    return !this.vms.has(vmid) && !this.usedElsewhere.has(vmid);
  }

  async listVms(): Promise<VmListEntry[]> {
    this.fault('listVms');
    return [...this.vms].map(([vmid, c]) => ({
      vmid,
      status: 'stopped',
      template: Number(c.template) === 1,
      ...(c.name !== undefined ? { name: String(c.name) } : {}),
      ...(c.lock !== undefined ? { lock: String(c.lock) } : {}),
    }));
  }

  async getVmConfig(vmid: number): Promise<VmConfig | undefined> {
    this.fault('getVmConfig');
    const config = this.vms.get(vmid);
    return config && { ...config };
  }

  /** Like PVE: the VM exists at once, locked and without its settings, until qmcreate ends. */
  async createVm(params: PveParams): Promise<string> {
    this.fault('createVm');
    const vmid = Number(params.vmid);
    if (this.vms.has(vmid) || this.usedElsewhere.has(vmid)) throw pveError('already-exists', `VM ${vmid} already exists on node '${this.node}'`);
    this.vms.set(vmid, { lock: 'create' });
    const settings = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as VmConfig;
    return this.start('qmcreate', vmid, () => this.vms.set(vmid, settings), () => this.vms.delete(vmid));
  }

  async updateVmConfigAsync(vmid: number, params: PveParams): Promise<string> {
    this.fault('updateVmConfigAsync');
    return this.start('qmconfig', vmid, () => this.vms.set(vmid, { ...this.existing(vmid), ...(params as VmConfig) }));
  }

  async updateVmConfig(vmid: number, params: PveParams): Promise<void> {
    this.fault('updateVmConfig');
    this.vms.set(vmid, { ...this.existing(vmid), ...(params as VmConfig) });
  }

  async resizeDisk(vmid: number, disk: string, size: string): Promise<string> {
    this.fault('resizeDisk');
    this.existing(vmid);
    return this.start('resize', vmid, () => this.vms.set(vmid, { ...this.existing(vmid), [`${disk}-size`]: size }));
  }

  async convertToTemplate(vmid: number): Promise<string> {
    this.fault('convertToTemplate');
    this.existing(vmid);
    return this.start('qmtemplate', vmid, () => this.vms.set(vmid, { ...this.existing(vmid), template: 1 }));
  }

  async cloneVm(vmid: number): Promise<string> {
    this.fault('cloneVm');
    throw pveError('other', `cloning VM ${vmid} is not part of a template build`);
  }

  /** Deletions end at once: the cleanup code waits for them inside the reconcile. */
  async deleteVm(vmid: number, _options?: DeleteVmOptions): Promise<string> {
    this.fault('deleteVm');
    this.existing(vmid);
    const upid = this.start('qmdestroy', vmid, () => this.vms.delete(vmid));
    this.finishTask(upid);
    return upid;
  }

  async vmStatus(vmid: number): Promise<VmStatus> {
    this.fault('vmStatus');
    const c = this.existing(vmid);
    return { vmid, status: 'stopped', template: Number(c.template) === 1 };
  }

  async powerAction(vmid: number): Promise<string> {
    this.fault('powerAction');
    throw pveError('other', `power actions on VM ${vmid} are not part of a template build`);
  }

  async agentPing(vmid: number): Promise<boolean> {
    this.fault('agentPing');
    throw pveError('other', `the guest agent of VM ${vmid} is not part of a template build`);
  }

  async downloadUrl(request: DownloadUrlRequest): Promise<string> {
    this.fault('downloadUrl');
    const volid = `${request.storage}:import/${request.filename}`;
    return this.start('download', request.storage, () => this.addVolume(volid), undefined, volid);
  }

  async listStorageContent(storage: string, content?: string): Promise<StorageVolume[]> {
    this.fault('listStorageContent');
    return this.volumes.filter((v) => v.volid.startsWith(`${storage}:`) && (content === undefined || v.content === content));
  }

  async deleteVolume(storage: string, volid: string): Promise<string> {
    this.fault('deleteVolume');
    const i = this.volumes.findIndex((v) => v.volid === volid);
    if (i < 0) throw pveError('not-found', `volume '${volid}' does not exist`);
    const upid = this.start('imgdel', storage, () => this.volumes.splice(i, 1), undefined, volid);
    this.finishTask(upid);
    return upid;
  }

  async taskStatus(upid: string): Promise<TaskStatus> {
    this.fault('taskStatus');
    const task = this.tasks.get(upid);
    if (!task) throw pveError('not-found', `no such task '${upid}'`);
    const stopped = task.exitStatus !== undefined;
    return { upid, node: this.node, type: task.type, id: task.id, user: 'anvil@pve!builder', status: stopped ? 'stopped' : 'running', ...(stopped ? { exitstatus: task.exitStatus! } : {}), starttime: 0, pid: 1, pstart: 1 };
  }

  async taskLog(upid: string): Promise<{ lines: TaskLogLine[]; total: number }> {
    this.fault('taskLog');
    const task = this.tasks.get(upid);
    if (!task) throw pveError('not-found', `no such task '${upid}'`);
    return { lines: [{ n: 1, t: `task ${task.type} ${task.id}` }, ...(task.exitStatus ? [{ n: 2, t: `TASK ${task.exitStatus}` }] : [])], total: task.exitStatus ? 2 : 1 };
  }

  /** The handlers only wait for a task they saw stopped (or a deletion, which ends at once). */
  async waitForTask(upid: string): Promise<TaskResult> {
    this.fault('waitForTask');
    const task = this.tasks.get(upid);
    if (!task) throw pveError('not-found', `no such task '${upid}'`);
    if (task.exitStatus === undefined) throw new Error(`waitForTask(${upid}) on a running task would block the reconcile`);
    const ok = task.exitStatus === 'OK' || task.exitStatus.startsWith('WARNINGS');
    return { upid, type: task.type, ok, exitStatus: task.exitStatus, logTail: ok ? [] : [`TASK ERROR: ${task.exitStatus}`] };
  }

  async runTask(upid: string | Promise<string>): Promise<TaskResult> {
    const result = await this.waitForTask(await upid);
    if (!result.ok) throw new ProxmoxTaskError(result);
    return result;
  }

  private start(type: string, id: string | number, effect: () => void, undo?: () => void, subject: string | number = id): string {
    const upid = `UPID:${this.node}:${(++this.seq).toString(16).padStart(8, '0')}:${type}:${id}:anvil@pve!builder:`;
    this.tasks.set(upid, { upid, type, id: String(id), effect, ...(undo ? { undo } : {}) });
    this.changes.push(`${type} ${subject}`);
    return upid;
  }

  private existing(vmid: number): VmConfig {
    const config = this.vms.get(vmid);
    if (!config) throw pveError('not-found', `Configuration file 'nodes/${this.node}/qemu-server/${vmid}.conf' does not exist`);
    return config;
  }

  private fault(method: ApiMethod): void {
    const err = this.faults.get(method);
    if (!err) return;
    this.faults.delete(method);
    throw err;
  }
}
