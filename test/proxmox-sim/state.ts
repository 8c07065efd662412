// The simulator's model of one PVE node: storages with volumes, VMs with their configuration and power state,
// per-VM locks, and an upstream file table that download-url fetches from.
import { createHash } from 'node:crypto';

export interface SimVolume {
  volid: string;
  storage: string;
  /** Content type: import, images, iso, ... */
  content: string;
  format: string;
  /** Size in bytes (virtual size for disks). */
  size: number;
  vmid?: number;
  ctime: number;
}

export interface SimStorage {
  id: string;
  type: 'dir' | 'lvmthin' | 'zfspool' | 'nfs';
  content: Set<string>;
  /** Mount point of file-based storages (dir, nfs); undefined for block storages. */
  path?: string;
  volumes: Map<string, SimVolume>;
}

export interface SimVm {
  vmid: number;
  /** Config values as PVE returns them: numbers for integer/boolean options, strings otherwise. */
  config: Record<string, string | number>;
  status: 'running' | 'stopped';
  qmpstatus: 'running' | 'stopped' | 'paused';
  startedAt?: number;
}

export interface UpstreamFile {
  url: string;
  data: Buffer;
  /** Virtual disk size of the image once imported (bytes). */
  virtualSize: number;
  contentType: string;
}

export const HASH_ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;

export function hashOf(data: Buffer | string, algorithm: string): string {
  return createHash(algorithm).update(data).digest('hex');
}

export const GiB = 1024 ** 3;

/** PVE::JSONSchema::parse_size (bytes for a value without unit). */
export function parseSize(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT])?$/.exec(value);
  if (!m) return undefined;
  const mult = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2] as 'K' | 'M' | 'G' | 'T'] ?? 1;
  return Math.floor(Number(m[1]) * mult);
}

/** PVE::JSONSchema::format_size: the largest unit that divides the size. */
export function formatSize(bytes: number): string {
  const units: Array<[string, number]> = [['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]];
  for (const [u, n] of units) if (bytes % n === 0) return `${bytes / n}${u}`;
  return String(bytes);
}

export const DRIVE_KEY = /^(ide|sata|scsi|virtio)\d+$|^efidisk0$|^tpmstate0$/;

export function defaultStorages(): SimStorage[] {
  return [
    { id: 'local', type: 'dir', path: '/var/lib/vz', content: new Set(['iso', 'vztmpl', 'backup', 'import', 'snippets']), volumes: new Map() },
    { id: 'local-lvm', type: 'lvmthin', content: new Set(['images', 'rootdir']), volumes: new Map() },
  ];
}

export function configDigest(config: Record<string, string | number>): string {
  const text = Object.keys(config)
    .filter((k) => k !== 'digest')
    .sort()
    .map((k) => `${k}: ${config[k]}`)
    .join('\n');
  return createHash('sha1').update(text).digest('hex');
}
