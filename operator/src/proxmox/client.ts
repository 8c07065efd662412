// The Proxmox VE API adapter: the calls anvil makes (VMs, storage, tasks), over the transport in pve-http.ts, with
// PVE's loosely typed answers (numbers as strings, 0/1 booleans) normalized.
import { ProxmoxError, ProxmoxTaskError } from './errors.js';
import type {
  CloneVmOptions,
  DeleteVmOptions,
  DownloadUrlRequest,
  PowerAction,
  ProxmoxApi,
  PveParams,
  PveVersion,
  StorageVolume,
  TaskLogLine,
  TaskResult,
  TaskStatus,
  VmConfig,
  VmListEntry,
  VmStatus,
  WaitOptions,
} from './ports.js';
import { PveHttp, type ProxmoxClientOptions } from './pve-http.js';
import { taskLogTail, waitForTask } from './task-wait.js';
import { isUpid } from './upid.js';

export { apiBase, parseApiToken, type ProxmoxClientOptions } from './pve-http.js';

const asBool = (v: unknown): boolean => v === 1 || v === '1' || v === true;
const asInt = (v: unknown): number => (typeof v === 'number' ? v : parseInt(String(v), 10));

export class ProxmoxClient extends PveHttp implements ProxmoxApi {
  readonly node: string;

  constructor(options: ProxmoxClientOptions) {
    super(options);
    this.node = options.node;
  }

  private nodePath(suffix: string): string {
    return `/nodes/${encodeURIComponent(this.node)}${suffix}`;
  }

  private async upidOf(method: 'POST' | 'PUT' | 'DELETE', path: string, params: PveParams = {}): Promise<string> {
    const { data } = await this.call<unknown>(method, path, params);
    if (!isUpid(data)) {
      throw new ProxmoxError({ code: 'other', status: 200, pveMessage: `expected a task UPID, got ${JSON.stringify(data)}`, request: `${method} ${path}`, transient: false });
    }
    return data;
  }

  async version(): Promise<PveVersion> {
    return (await this.call<PveVersion>('GET', '/version')).data;
  }

  async nextId(): Promise<number> {
    // PVE answers with a string ("100") although the schema says integer.
    return asInt((await this.call<string | number>('GET', '/cluster/nextid')).data);
  }

  async isVmidFree(vmid: number): Promise<boolean> {
    try {
      await this.call('GET', '/cluster/nextid', { vmid });
      return true;
    } catch (err) {
      if (err instanceof ProxmoxError && err.status === 400 && err.paramErrors.vmid) return false;
      throw err;
    }
  }

  async listVms(): Promise<VmListEntry[]> {
    const { data } = await this.call<Array<Record<string, unknown>>>('GET', this.nodePath('/qemu'));
    return data.map((v) => ({
      vmid: asInt(v.vmid),
      status: String(v.status ?? ''),
      template: asBool(v.template),
      ...(v.name !== undefined ? { name: String(v.name) } : {}),
      ...(v.tags !== undefined ? { tags: String(v.tags) } : {}),
      ...(v.lock !== undefined ? { lock: String(v.lock) } : {}),
    }));
  }

  async getVmConfig(vmid: number): Promise<VmConfig | undefined> {
    try {
      return (await this.call<VmConfig>('GET', this.nodePath(`/qemu/${vmid}/config`))).data;
    } catch (err) {
      if (err instanceof ProxmoxError && err.code === 'not-found') return undefined;
      throw err;
    }
  }

  createVm(params: PveParams): Promise<string> {
    return this.upidOf('POST', this.nodePath('/qemu'), params);
  }

  updateVmConfigAsync(vmid: number, params: PveParams): Promise<string> {
    return this.upidOf('POST', this.nodePath(`/qemu/${vmid}/config`), params);
  }

  async updateVmConfig(vmid: number, params: PveParams): Promise<void> {
    await this.call('PUT', this.nodePath(`/qemu/${vmid}/config`), params);
  }

  resizeDisk(vmid: number, disk: string, size: string): Promise<string> {
    return this.upidOf('PUT', this.nodePath(`/qemu/${vmid}/resize`), { disk, size });
  }

  convertToTemplate(vmid: number): Promise<string> {
    return this.upidOf('POST', this.nodePath(`/qemu/${vmid}/template`));
  }

  cloneVm(vmid: number, newid: number, options: CloneVmOptions = {}): Promise<string> {
    return this.upidOf('POST', this.nodePath(`/qemu/${vmid}/clone`), { newid, ...options });
  }

  deleteVm(vmid: number, options: DeleteVmOptions = {}): Promise<string> {
    return this.upidOf('DELETE', this.nodePath(`/qemu/${vmid}`), {
      purge: options.purge,
      'destroy-unreferenced-disks': options.destroyUnreferencedDisks,
      skiplock: options.skiplock,
    });
  }

  async vmStatus(vmid: number): Promise<VmStatus> {
    const { data } = await this.call<Record<string, unknown>>('GET', this.nodePath(`/qemu/${vmid}/status/current`));
    return {
      vmid: asInt(data.vmid ?? vmid),
      status: data.status === 'running' ? 'running' : 'stopped',
      template: asBool(data.template),
      ...(data.qmpstatus !== undefined ? { qmpstatus: String(data.qmpstatus) } : {}),
      ...(data.name !== undefined ? { name: String(data.name) } : {}),
      ...(data.lock !== undefined ? { lock: String(data.lock) } : {}),
      ...(data.uptime !== undefined ? { uptime: asInt(data.uptime) } : {}),
    };
  }

  powerAction(vmid: number, action: PowerAction, extra: PveParams = {}): Promise<string> {
    return this.upidOf('POST', this.nodePath(`/qemu/${vmid}/status/${action}`), extra);
  }

  async agentPing(vmid: number): Promise<boolean> {
    try {
      await this.call<unknown>('POST', this.nodePath(`/qemu/${vmid}/agent/ping`));
      return true;
    } catch (err) {
      // PVE answers 500 "QEMU guest agent is not running" (or "VM <id> is not running") until the guest is up.
      if (err instanceof ProxmoxError && err.status === 500 && /guest agent|not running/i.test(err.pveMessage)) return false;
      throw err;
    }
  }

  downloadUrl(r: DownloadUrlRequest): Promise<string> {
    return this.upidOf('POST', this.nodePath(`/storage/${encodeURIComponent(r.storage)}/download-url`), {
      url: r.url,
      filename: r.filename,
      content: r.content,
      checksum: r.checksum,
      'checksum-algorithm': r.checksum ? r.checksumAlgorithm ?? 'sha256' : undefined,
      'verify-certificates': r.verifyCertificates,
    });
  }

  deleteVolume(storage: string, volid: string): Promise<string> {
    return this.upidOf('DELETE', this.nodePath(`/storage/${encodeURIComponent(storage)}/content/${encodeURIComponent(volid)}`));
  }

  async listStorageContent(storage: string, content?: string): Promise<StorageVolume[]> {
    const { data } = await this.call<Array<Record<string, unknown>>>('GET', this.nodePath(`/storage/${encodeURIComponent(storage)}/content`), { content });
    return data.map((v) => ({
      volid: String(v.volid),
      format: String(v.format ?? ''),
      size: asInt(v.size ?? 0),
      ...(v.content !== undefined ? { content: String(v.content) } : {}),
      ...(v.vmid !== undefined ? { vmid: asInt(v.vmid) } : {}),
      ...(v.ctime !== undefined ? { ctime: asInt(v.ctime) } : {}),
    }));
  }

  async taskStatus(upid: string): Promise<TaskStatus> {
    return (await this.call<TaskStatus>('GET', this.nodePath(`/tasks/${encodeURIComponent(upid)}/status`))).data;
  }

  async taskLog(upid: string, start = 0, limit = 50): Promise<{ lines: TaskLogLine[]; total: number }> {
    const { data, total } = await this.call<TaskLogLine[]>('GET', this.nodePath(`/tasks/${encodeURIComponent(upid)}/log`), { start, limit });
    return { lines: data, total: total ?? data.length };
  }

  /** The last `count` log lines (two calls: the first learns the total). */
  taskLogTail(upid: string, count = 20): Promise<string[]> {
    return taskLogTail(this, upid, count);
  }

  waitForTask(upid: string, options: WaitOptions = {}): Promise<TaskResult> {
    return waitForTask(this, upid, options);
  }

  async runTask(upid: string | Promise<string>, options?: WaitOptions): Promise<TaskResult> {
    const result = await this.waitForTask(await upid, options);
    if (!result.ok) throw new ProxmoxTaskError(result);
    return result;
  }
}
