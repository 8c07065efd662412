// The parameters of POST /nodes/{node}/qemu that create a template VM from an imported cloud image: the root disk
// imported from the download (`<storage>:0,import-from=<volume>`), a cloud-init drive on the chosen bus, serial
// console, guest agent, firmware, NIC and cloud-init settings.
import type { BiosType, CloudInitBus, MachineType } from '@anvil/core/api';
import type { PveParams } from './ports.js';

export interface TemplateVmOptions {
  vmid: number;
  name: string;
  /** The downloaded image, e.g. `local:import/noble-server-cloudimg-amd64.qcow2`. */
  importVolume: string;
  /** Storage for the root disk (and the cloud-init drive). */
  storage: string;
  cloudInitBus: CloudInitBus;
  cores: number;
  sockets: number;
  memoryMiB: number;
  cpuType: string;
  machine: MachineType;
  bios: BiosType;
  /** Storage of the EFI vars disk when bios is ovmf (defaults to storage). */
  efiStorage?: string;
  bridge: string;
  vlan?: number;
  serialConsole: boolean;
  agent: boolean;
  tags?: string[];
  description?: string;
  cloudInit?: {
    user?: string;
    password?: string;
    sshKeys?: string[];
    ipConfig?: string;
    nameservers?: string[];
    searchDomain?: string;
  };
}

/** Where the root disk and the cloud-init drive go. */
export const ROOT_DISK = 'scsi0';
export function cloudInitSlot(bus: CloudInitBus): string {
  return bus === 'ide' ? 'ide2' : bus === 'scsi' ? 'scsi1' : 'sata0';
}

/**
 * PVE wants sshkeys URL-encoded (format "urlencoded": only [-%a-zA-Z0-9_.!~*'()]); the form encoding of the request
 * then encodes it once more. encodeURIComponent leaves exactly that character set.
 */
export function encodeSshKeys(keys: string[]): string {
  return encodeURIComponent(keys.map((k) => k.trim()).join('\n'));
}

export function templateCreateParams(o: TemplateVmOptions): PveParams {
  const params: PveParams = {
    vmid: o.vmid,
    name: o.name,
    ostype: 'l26',
    machine: o.machine === 'q35' ? 'q35' : 'pc',
    bios: o.bios,
    cores: o.cores,
    sockets: o.sockets,
    memory: o.memoryMiB,
    cpu: o.cpuType,
    scsihw: 'virtio-scsi-single',
    [ROOT_DISK]: `${o.storage}:0,import-from=${o.importVolume},discard=on,iothread=1`,
    [cloudInitSlot(o.cloudInitBus)]: `${o.storage}:cloudinit`,
    boot: `order=${ROOT_DISK}`,
    net0: `virtio,bridge=${o.bridge}${o.vlan ? `,tag=${o.vlan}` : ''}`,
    agent: o.agent ? 'enabled=1' : 'enabled=0',
  };
  if (o.bios === 'ovmf') params.efidisk0 = `${o.efiStorage ?? o.storage}:1,efitype=4m,pre-enrolled-keys=0`;
  if (o.serialConsole) {
    params.serial0 = 'socket';
    params.vga = 'serial0';
  }
  if (o.tags?.length) params.tags = o.tags.join(';');
  if (o.description) params.description = o.description;
  const ci = o.cloudInit ?? {};
  if (ci.user) params.ciuser = ci.user;
  if (ci.password) params.cipassword = ci.password;
  if (ci.sshKeys?.length) params.sshkeys = encodeSshKeys(ci.sshKeys);
  params.ipconfig0 = ci.ipConfig ?? 'ip=dhcp';
  if (ci.nameservers?.length) params.nameserver = ci.nameservers.join(' ');
  if (ci.searchDomain) params.searchdomain = ci.searchDomain;
  return params;
}
