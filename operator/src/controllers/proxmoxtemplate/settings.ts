// What a ProxmoxTemplate's spec means for one build: the VM settings with their defaults, the hash that says when the
// settings changed (a new version), the template's name, and the ownership marker written into the VM's description
// so that a VM can be recognised as ours after a restart, a lost status or a re-created object.
import { createHash } from 'node:crypto';
import type { CloudInitBus, ProxmoxTemplate, ProxmoxTemplateBuild } from '@anvil/core/api';
import { catalogEntry } from '../../proxmox/catalog.js';
import type { VmConfig } from '../../proxmox/ports.js';
import type { TemplateVmOptions } from '../../proxmox/vm-params.js';

export type VmSettings = Omit<TemplateVmOptions, 'vmid' | 'name' | 'importVolume' | 'description' | 'cloudInit'> & {
  diskSize?: string;
  importStorage: string;
};

/** spec.vm with the CRD's defaults applied (the API server applies them too; objects built in code may lack them). */
export function vmSettings(t: ProxmoxTemplate): VmSettings {
  const vm = t.spec.vm ?? {};
  const distribution = t.spec.source.distribution ? catalogEntry(t.spec.source.distribution) : undefined;
  const bus: CloudInitBus = vm.cloudInitBus ?? distribution?.cloudInitBus ?? 'ide';
  return {
    storage: vm.storage ?? 'local-lvm',
    importStorage: vm.importStorage ?? 'local',
    cloudInitBus: bus,
    cores: vm.cores ?? 2,
    sockets: vm.sockets ?? 1,
    memoryMiB: vm.memoryMiB ?? 2048,
    cpuType: vm.cpuType ?? 'x86-64-v2-AES',
    machine: vm.machine ?? 'q35',
    bios: vm.bios ?? 'seabios',
    ...(vm.efiStorage ? { efiStorage: vm.efiStorage } : {}),
    bridge: vm.bridge ?? 'vmbr0',
    ...(vm.vlan ? { vlan: vm.vlan } : {}),
    serialConsole: vm.serialConsole ?? true,
    agent: vm.agent ?? true,
    tags: vm.tags ?? [],
    ...(vm.diskSize ? { diskSize: vm.diskSize } : {}),
  };
}

export const namePrefix = (t: ProxmoxTemplate): string => t.spec.vm?.namePrefix ?? t.metadata.name!;
export const versionName = (t: ProxmoxTemplate, version: number): string => `${namePrefix(t)}-v${version}`;
export const versionTag = (version: number): string => `anvil-v${version}`;

/**
 * Hash of everything besides the image that ends up in the template: VM shape and cloud-init settings (the password
 * only as its own hash). A change builds a new version, as a new image does.
 */
export function settingsHash(t: ProxmoxTemplate, password: string | undefined): string {
  const ci = t.spec.cloudInit ?? {};
  const input = {
    vm: vmSettings(t),
    cloudInit: { ...ci, passwordSecretRef: undefined, password: password === undefined ? null : sha256(password) },
  };
  return sha256(canonicalJson(input)).slice(0, 16);
}

/** The parameters of the VM a build creates. */
export function buildVmOptions(t: ProxmoxTemplate, build: ProxmoxTemplateBuild, password: string | undefined): TemplateVmOptions {
  const { diskSize: _diskSize, importStorage: _importStorage, ...vm } = vmSettings(t);
  const ci = t.spec.cloudInit ?? {};
  return {
    ...vm,
    vmid: build.vmid!,
    name: build.name!,
    importVolume: build.importVolume!,
    tags: [...new Set(['anvil', versionTag(build.version), ...vm.tags!])],
    description: ownerMarker(t, build),
    cloudInit: {
      ...(ci.user ? { user: ci.user } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(ci.sshKeys?.length ? { sshKeys: ci.sshKeys } : {}),
      ...(ci.ipConfig ? { ipConfig: ci.ipConfig } : {}),
      ...(ci.nameservers?.length ? { nameservers: ci.nameservers } : {}),
      ...(ci.searchDomain ? { searchDomain: ci.searchDomain } : {}),
    },
  };
}

export interface OwnerMarker {
  /** namespace/name of the ProxmoxTemplate. */
  owner: string;
  uid: string;
  version: number;
  checksum?: string;
  imageURL?: string;
  settingsHash?: string;
}

const MARKER_LINE = /^anvil\.dev\/([a-z-]+)=(.*)$/;

/** The VM description: a human line, then key=value lines anvil reads back (PVE shows the description as notes). */
export function ownerMarker(t: ProxmoxTemplate, build: ProxmoxTemplateBuild): string {
  return [
    `Built by anvil from ProxmoxTemplate ${t.metadata.namespace}/${t.metadata.name}, version ${build.version}.`,
    '',
    `anvil.dev/owner=${t.metadata.namespace}/${t.metadata.name}`,
    `anvil.dev/uid=${t.metadata.uid}`,
    `anvil.dev/version=${build.version}`,
    `anvil.dev/checksum=${build.algorithm ?? 'sha256'}:${build.checksum}`,
    `anvil.dev/image=${build.imageURL}`,
    `anvil.dev/settings=${build.settingsHash}`,
  ].join('\n');
}

export function parseOwnerMarker(config: VmConfig | undefined): OwnerMarker | undefined {
  const description = config?.description;
  if (typeof description !== 'string') return undefined;
  const fields: Record<string, string> = {};
  for (const line of description.split(/\r?\n/)) {
    const m = MARKER_LINE.exec(line.trim());
    if (m) fields[m[1]!] = m[2]!;
  }
  const version = Number(fields.version);
  if (!fields.owner || !fields.uid || !Number.isInteger(version) || version < 1) return undefined;
  return {
    owner: fields.owner,
    uid: fields.uid,
    version,
    ...(fields.checksum ? { checksum: fields.checksum.replace(/^sha(256|512):/, '') } : {}),
    ...(fields.image ? { imageURL: fields.image } : {}),
    ...(fields.settings ? { settingsHash: fields.settings } : {}),
  };
}

export const ownerKey = (t: ProxmoxTemplate): string => `${t.metadata.namespace}/${t.metadata.name}`;

/** This object's build of this version (same uid): a VM a lost status or a restart left behind. */
export const isOurBuild = (t: ProxmoxTemplate, marker: OwnerMarker | undefined, version: number): boolean =>
  marker?.owner === ownerKey(t) && marker.uid === t.metadata.uid && marker.version === version;

/**
 * The history key of one attempt of one version's build, derived (not random) so that deciding the same build twice,
 * e.g. after a write conflict, names the same history row.
 */
export function buildId(t: ProxmoxTemplate, version: number, attempt: number): string {
  const h = sha256(`${t.metadata.uid}/${version}/${attempt}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
