// ProxmoxTemplate spec: how to reach Proxmox VE, where the cloud image comes from, the shape of the template VM, the
// cloud-init settings baked into it, versioning and what happens on delete.
import * as s from '../schema.js';
import { HTTP_URL_PATTERN, secretKeySelector } from './common.js';
import {
  BIOS_TYPES,
  CHECKSUM_ALGORITHMS,
  CLOUD_INIT_BUSES,
  DISK_SIZE_PATTERN,
  IPCONFIG_PATTERN,
  MACHINE_TYPES,
  PVE_NODE_PATTERN,
  PVE_STORAGE_ID_PATTERN,
  PVE_TAG_PATTERN,
  RELEASE_CLASSES,
  RETAIN_POLICIES,
  SSH_PUBLIC_KEY_PATTERN,
  VMID_MAX,
  VMID_MIN,
} from './proxmoxtemplate-enums.js';

const storageId = (description: string, defaultValue?: string) =>
  s.string(description, { pattern: PVE_STORAGE_ID_PATTERN, maxLength: 64, default: defaultValue });

/** A VMID field (status uses it too). */
export const vmid = (description: string) => s.integer(description, { minimum: VMID_MIN, maximum: VMID_MAX, format: 'int32' });

const connection = s.object(
  'How to reach the Proxmox VE API. anvil needs PVE 8.3 or newer and works with a non-root API token.',
  {
    url: s.string('Base URL of the PVE API, e.g. https://pve1.example.com:8006 (the /api2/json suffix is added).', {
      pattern: HTTP_URL_PATTERN,
      maxLength: 2048,
    }),
    node: s.string('Cluster node that downloads the image and holds the template.', { pattern: PVE_NODE_PATTERN, maxLength: 63 }),
    tokenSecretRef: secretKeySelector(
      'Secret value holding the API token as USER@REALM!TOKENID=SECRET (sent as Authorization: PVEAPIToken=...).',
      'token',
    ),
    caSecretRef: secretKeySelector('Secret value holding the PEM CA bundle that signs the API certificate.', 'ca.crt'),
    insecureSkipTLSVerify: s.boolean('Skip TLS certificate verification of the API. Only for labs; prefer caSecretRef.', { default: false }),
  },
  { required: ['url', 'node', 'tokenSecretRef'] },
);

const checksum = s.object(
  'Expected checksum of the image: either the value itself or a checksum file to read it from.',
  {
    value: s.string('Checksum of the image in hex (64 digits for sha256, 128 for sha512).', {
      pattern: '^([0-9A-Fa-f]{64}|[0-9A-Fa-f]{128})$',
    }),
    url: s.string(
      'http(s) URL of a checksum file (SHA256SUMS, SHA512SUMS, CHECKSUM or a per-file .sha256); the entry for the image\'s file name is used.',
      { pattern: HTTP_URL_PATTERN, maxLength: 2048 },
    ),
    algorithm: s.stringEnum('Checksum algorithm.', CHECKSUM_ALGORITHMS, { default: 'sha256' }),
  },
  { exactlyOneOf: [['value'], ['url']] },
);

const source = s.object(
  'Where the cloud image comes from: exactly one of distribution (from anvil\'s catalog) or url with checksum.',
  {
    distribution: s.string(
      'Name of a distribution in anvil\'s built-in catalog, e.g. ubuntu-24.04, debian-12, rocky-9, fedora-42, alpine-3.22; the catalog knows the image URL and where its checksum is published. Unknown names are reported in status.',
      { pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 63 },
    ),
    url: s.string('http(s) URL of a qcow2/raw cloud image (not compressed). Requires checksum.', { pattern: HTTP_URL_PATTERN, maxLength: 2048 }),
    checksum,
    release: s.string('The distribution release of a url source, e.g. 24.04.2 (a distribution source takes the catalog entry\'s); what spec.updates classifies.', { maxLength: 64 }),
    checkIntervalSeconds: s.integer(
      'How often anvil checks whether the upstream image changed (new checksum), which builds a new version. 0 turns checks off; values below 300 count as 300.',
      { minimum: 0, default: 86400, format: 'int32' },
    ),
  },
  { exactlyOneOf: [['distribution'], ['url', 'checksum']] },
);

const vm = s.object(
  'Shape of the template VM.',
  {
    namePrefix: s.string('Prefix of the template names; version N is named <namePrefix>-v<N>. Defaults to metadata.name.', {
      pattern: '^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$',
      maxLength: 50,
    }),
    vmidRange: s.object(
      'Range of VMIDs anvil may use for this template\'s versions; allocation is verified after create and retried on collisions. If unset, free VMIDs from /cluster/nextid are used.',
      {
        min: vmid('Lowest VMID (at least 100).'),
        max: vmid('Highest VMID (at most 999999999, not below min).'),
      },
      { required: ['min', 'max'] },
    ),
    storage: storageId('Storage for the VM disks (content type images).', 'local-lvm'),
    importStorage: storageId('Storage the image is downloaded into; must allow content type import (PVE 8.3+).', 'local'),
    diskSize: s.string('Size the root disk is grown to, with unit K, M, G or T (e.g. 20G). If unset, the image\'s own size is kept.', {
      pattern: DISK_SIZE_PATTERN,
      maxLength: 32,
    }),
    cores: s.integer('CPU cores per socket.', { minimum: 1, maximum: 1024, default: 2, format: 'int32' }),
    sockets: s.integer('CPU sockets.', { minimum: 1, maximum: 16, default: 1, format: 'int32' }),
    memoryMiB: s.integer('Memory in MiB.', { minimum: 16, default: 2048, format: 'int32' }),
    cpuType: s.string('Emulated CPU type (PVE cputype), e.g. host or x86-64-v2-AES.', {
      pattern: '^[A-Za-z0-9_.+-]+$',
      maxLength: 64,
      default: 'x86-64-v2-AES',
    }),
    machine: s.stringEnum('QEMU machine type: q35 (modern, PCIe) or i440fx (PVE\'s "pc").', MACHINE_TYPES, { default: 'q35' }),
    bios: s.stringEnum('Firmware: seabios (legacy BIOS) or ovmf (UEFI; adds an EFI vars disk on efiStorage).', BIOS_TYPES, {
      default: 'seabios',
    }),
    efiStorage: storageId('Storage for the EFI vars disk when bios is ovmf. Defaults to storage.'),
    bridge: s.string('Network bridge of the first NIC (virtio).', { pattern: '^[A-Za-z0-9_.-]+$', maxLength: 15, default: 'vmbr0' }),
    vlan: s.integer('VLAN tag of the first NIC; untagged if unset.', { minimum: 1, maximum: 4094, format: 'int32' }),
    cloudInitBus: s.stringEnum(
      'Bus of the cloud-init drive: ide (ide2), scsi (scsi1) or sata (sata0). Some distributions do not see an IDE cloud-init drive. Defaults to the catalog\'s bus for spec.source.distribution (scsi for Alpine, ide for the others), ide for an explicit URL.',
      CLOUD_INIT_BUSES,
    ),
    serialConsole: s.boolean('Add a serial port (serial0=socket) and use it as the display, as many cloud images expect.', {
      default: true,
    }),
    agent: s.boolean('Enable the QEMU guest agent option.', { default: true }),
    tags: s.array(
      'PVE tags on the template (anvil also adds its own version tag).',
      s.string('A PVE tag.', { pattern: PVE_TAG_PATTERN, maxLength: 64 }),
      { listType: 'set', maxItems: 32 },
    ),
  },
  { default: {} },
);

const cloudInit = s.object('Cloud-init settings baked into the template (PVE\'s ci* options); clones inherit them.', {
  user: s.string('User whose password and SSH keys are set, instead of the image\'s default user.', {
    pattern: '^[a-z_][a-z0-9_-]*$',
    maxLength: 32,
  }),
  passwordSecretRef: secretKeySelector('Secret value holding the user\'s password (plain or a crypt(3) hash).', 'password'),
  sshKeys: s.array('Authorized SSH public keys for the user.', s.string('An OpenSSH public key line.', { pattern: SSH_PUBLIC_KEY_PATTERN, maxLength: 16384 }), {
    maxItems: 64,
  }),
  ipConfig: s.string('IP configuration of the first NIC in PVE ipconfig syntax, e.g. ip=dhcp or ip=10.0.0.5/24,gw=10.0.0.1. DHCP if unset.', {
    pattern: IPCONFIG_PATTERN,
    maxLength: 512,
  }),
  nameservers: s.array('DNS servers. If neither nameservers nor searchDomain is set, PVE uses the node\'s settings.', s.string('IP address of a DNS server.', { maxLength: 45 }), {
    maxItems: 3,
  }),
  searchDomain: s.string('DNS search domain.', { pattern: '^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$', maxLength: 253 }),
});

const versions = s.object(
  'Versioning: a new version is built next to the old ones whenever the upstream image changes.',
  {
    keep: s.integer('How many versions to keep (the active one is always kept).', { minimum: 1, maximum: 100, default: 3, format: 'int32' }),
    pin: s.integer('Version to make active instead of the newest, e.g. to roll back. Must be one of the kept versions in status.versions.', {
      minimum: 1,
      format: 'int32',
    }),
  },
  { default: {} },
);

const validation = s.object(
  'A validation boot of each new version before it becomes active: the template is cloned to a VM, the VM started and watched, then stopped and destroyed. A version whose boot fails is removed and the active version stays (the build is retried with backoff).',
  {
    boot: s.boolean('Boot each new version before promoting it.', { default: false }),
    guestAgent: s.boolean('Wait for the QEMU guest agent to answer (POST .../agent/ping) as the sign the system came up; needs spec.vm.agent and an image with qemu-guest-agent. Otherwise the VM must start and keep running for settleSeconds.', { default: false }),
    settleSeconds: s.integer('Seconds the validation VM must keep running (without the guest agent).', { minimum: 0, maximum: 3600, default: 30, format: 'int32' }),
    timeoutSeconds: s.integer('Seconds the whole validation boot may take before the version is rejected.', { minimum: 30, maximum: 86400, default: 600, format: 'int32' }),
  },
);

const updates = s.object(
  'The gate for new upstream releases. A release is the distribution\'s version number (the catalog entry\'s, e.g. 24.04 of ubuntu-24.04, or spec.source.release for a URL source); a new image of the same release (a rebuilt "current" image) is class same.',
  {
    autoApproveReleases: s.array(
      'Release classes built without approval: same, patch, minor, major, downgrade, unknown (a release that is not numbers).',
      s.stringEnum('A release class.', RELEASE_CLASSES),
      { maxItems: 6, listType: 'set' },
    ),
    approvedRelease: s.string('A release a person approved to build although its class needs approval (e.g. 26.04); approves that release only.', { maxLength: 64 }),
  },
);

export const proxmoxTemplateSpecSchema = s.object(
  'Desired state of the ProxmoxTemplate.',
  {
    connection,
    source,
    vm,
    cloudInit,
    versions,
    validation,
    updates,
    retainPolicy: s.stringEnum(
      'What happens to the templates this object created when it is deleted: Delete removes them, Retain leaves them on Proxmox.',
      RETAIN_POLICIES,
      { default: 'Delete' },
    ),
  },
  { required: ['connection', 'source'] },
);
