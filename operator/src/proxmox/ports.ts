// The port the ProxmoxTemplate controller depends on: the PVE API calls anvil makes, bound to one node. The real
// adapter is ProxmoxClient (client.ts); tests run it against the simulator in test/proxmox-sim.

/** Parameter values as PVE takes them; booleans are sent as 1/0, undefined values are left out. */
export type PveParams = Record<string, string | number | boolean | undefined>;

export interface PveVersion {
  /** Full pve-manager version, e.g. 8.4.1. */
  version: string;
  /** Point release, e.g. 8.4. */
  release: string;
  repoid: string;
}

export type TaskState = 'running' | 'stopped';

export interface TaskStatus {
  upid: string;
  node: string;
  type: string;
  id: string;
  user: string;
  status: TaskState;
  /** Set once stopped: "OK", "WARNINGS: n" or the error message. */
  exitstatus?: string;
  /** Seconds since the UNIX epoch. */
  starttime: number;
  pid: number;
  pstart: number;
}

export interface TaskLogLine {
  /** 1-based line number. */
  n: number;
  t: string;
}

export interface TaskResult {
  upid: string;
  type: string;
  /** True for exit status OK (and "WARNINGS: n", which PVE counts as success). */
  ok: boolean;
  exitStatus: string;
  /** The last lines of the task log; filled only when the task failed. */
  logTail: string[];
}

export interface WaitOptions {
  /** Poll interval (default 1000 ms). */
  intervalMs?: number;
  /** Give up after this long; the error is transient (the task may still finish). Default: no limit. */
  timeoutMs?: number;
  /** Lines of log to keep for a failed task (default 20). */
  logLines?: number;
  signal?: AbortSignal;
}

export interface VmListEntry {
  vmid: number;
  name?: string;
  status: string;
  template: boolean;
  tags?: string;
  lock?: string;
}

/** A VM configuration as GET .../config returns it (property strings unparsed, plus `digest`). */
export type VmConfig = Record<string, string | number>;

export interface VmStatus {
  vmid: number;
  status: 'running' | 'stopped';
  qmpstatus?: string;
  name?: string;
  template: boolean;
  lock?: string;
  uptime?: number;
}

export interface StorageVolume {
  volid: string;
  format: string;
  size: number;
  content?: string;
  vmid?: number;
  ctime?: number;
}

export type ChecksumAlgorithmName = 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

export interface DownloadUrlRequest {
  storage: string;
  url: string;
  /** Target file name; for content `import` it must end in .qcow2, .raw, .vmdk or .ova (see importFileName). */
  filename: string;
  content: 'import' | 'iso' | 'vztmpl';
  checksum?: string;
  checksumAlgorithm?: ChecksumAlgorithmName;
  verifyCertificates?: boolean;
}

export type PowerAction = 'start' | 'stop' | 'shutdown' | 'reboot' | 'reset';

export interface DeleteVmOptions {
  /** Also remove the VMID from backup, replication and HA configuration. */
  purge?: boolean;
  /** Also destroy disks of this VMID that the config does not reference. */
  destroyUnreferencedDisks?: boolean;
  skiplock?: boolean;
}

export interface CloneVmOptions {
  name?: string;
  full?: boolean;
  storage?: string;
  description?: string;
  pool?: string;
}

/**
 * The PVE API operations anvil needs, bound to one node. Every method throws ProxmoxError (see errors.ts) when PVE
 * refuses or cannot be reached; methods that start a task return its UPID and waitForTask follows it.
 */
export interface ProxmoxApi {
  /** The node every node-scoped call goes to. */
  readonly node: string;

  version(): Promise<PveVersion>;

  /** The lowest free VMID. Reserves nothing: another client may take it before you create. */
  nextId(): Promise<number>;
  /** Whether a VMID is free at the time of the check (GET /cluster/nextid?vmid=; PVE answers 400 when taken). */
  isVmidFree(vmid: number): Promise<boolean>;

  listVms(): Promise<VmListEntry[]>;
  /** The VM's configuration, or undefined when the VM does not exist. */
  getVmConfig(vmid: number): Promise<VmConfig | undefined>;
  /** POST /nodes/{node}/qemu; params must include vmid (see templateCreateParams in vm-params.ts). */
  createVm(params: PveParams): Promise<string>;
  /** POST .../config (asynchronous, returns a UPID; needed when the change allocates disks). */
  updateVmConfigAsync(vmid: number, params: PveParams): Promise<string>;
  /** PUT .../config (synchronous). */
  updateVmConfig(vmid: number, params: PveParams): Promise<void>;
  /** PUT .../resize; size is absolute (20G) or relative (+10G). */
  resizeDisk(vmid: number, disk: string, size: string): Promise<string>;
  convertToTemplate(vmid: number): Promise<string>;
  cloneVm(vmid: number, newid: number, options?: CloneVmOptions): Promise<string>;
  deleteVm(vmid: number, options?: DeleteVmOptions): Promise<string>;
  vmStatus(vmid: number): Promise<VmStatus>;
  /** POST .../status/{action}; extra holds action-specific parameters such as timeout or forceStop. */
  powerAction(vmid: number, action: PowerAction, extra?: PveParams): Promise<string>;
  /** Whether the VM's QEMU guest agent answers (POST .../agent/ping); false while it does not (yet). */
  agentPing(vmid: number): Promise<boolean>;

  downloadUrl(request: DownloadUrlRequest): Promise<string>;
  listStorageContent(storage: string, content?: string): Promise<StorageVolume[]>;
  /** DELETE .../storage/{storage}/content/{volume}: removes a volume (e.g. a downloaded image); returns the UPID. */
  deleteVolume(storage: string, volid: string): Promise<string>;

  taskStatus(upid: string): Promise<TaskStatus>;
  /** Log lines [start, start + limit) and the total number of lines. */
  taskLog(upid: string, start?: number, limit?: number): Promise<{ lines: TaskLogLine[]; total: number }>;
  /** Polls until the task stopped. Resolves with ok=false (and the log tail) for a failed task; throws only when
   *  the status cannot be read or the wait times out. */
  waitForTask(upid: string, options?: WaitOptions): Promise<TaskResult>;
  /** waitForTask, then throws ProxmoxTaskError unless the task succeeded. */
  runTask(upid: string | Promise<string>, options?: WaitOptions): Promise<TaskResult>;
}
