// ProxmoxTemplate: a versioned cloud-init VM template on Proxmox VE, built from a distribution cloud image.
import * as s from '../schema.js';
import type { CrdDefinition } from '../crd.js';
import { type API_VERSION, HTTP_URL_PATTERN, observedGeneration, secretKeySelector, type ObjectMeta } from './common.js';

export const PROXMOXTEMPLATE_KIND = 'ProxmoxTemplate';
export const PROXMOXTEMPLATE_PLURAL = 'proxmoxtemplates';
export const PROXMOXTEMPLATE_SINGULAR = 'proxmoxtemplate';
export const PROXMOXTEMPLATE_SHORT_NAMES = ['pxt'] as const;

export const PROXMOXTEMPLATE_PHASES = ['Pending', 'Downloading', 'Creating', 'Converting', 'Ready', 'Failed', 'Deleting'] as const;
export type ProxmoxTemplatePhase = (typeof PROXMOXTEMPLATE_PHASES)[number];

export const CHECKSUM_ALGORITHMS = ['sha256', 'sha512'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** q35 and i440fx map to PVE's `machine=q35` and `machine=pc`. */
export const MACHINE_TYPES = ['q35', 'i440fx'] as const;
export type MachineType = (typeof MACHINE_TYPES)[number];

export const BIOS_TYPES = ['seabios', 'ovmf'] as const;
export type BiosType = (typeof BIOS_TYPES)[number];

export const CLOUD_INIT_BUSES = ['ide', 'scsi', 'sata'] as const;
export type CloudInitBus = (typeof CLOUD_INIT_BUSES)[number];

export const RETAIN_POLICIES = ['Delete', 'Retain'] as const;
export type RetainPolicy = (typeof RETAIN_POLICIES)[number];

export const PROXMOXTEMPLATE_CONDITIONS = {
  /** The active version exists as a template on the node. */
  Ready: 'Ready',
  /** The API answers, the token is accepted and the PVE version is supported. */
  Connected: 'Connected',
  /** The image URL and its expected checksum are known. */
  SourceResolved: 'SourceResolved',
  /** A build is in progress. */
  Building: 'Building',
} as const;
export type ProxmoxTemplateConditionType = (typeof PROXMOXTEMPLATE_CONDITIONS)[keyof typeof PROXMOXTEMPLATE_CONDITIONS];

export const VMID_MIN = 100;
export const VMID_MAX = 999999999;

/** PVE storage identifier (pve-storage-id). */
export const PVE_STORAGE_ID_PATTERN = '^[A-Za-z][A-Za-z0-9._-]*[A-Za-z0-9]$';
/** PVE node name (pve-node). */
export const PVE_NODE_PATTERN = '^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$';
/** PVE tag (pve-tag). */
export const PVE_TAG_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_+.-]*$';
/** PVE disk size with a unit, as accepted by the resize call. */
export const DISK_SIZE_PATTERN = '^[0-9]+(\\.[0-9]+)?[KMGT]$';
/** PVE cloud-init ipconfig: comma-separated ip=, gw=, ip6=, gw6= settings. */
export const IPCONFIG_PATTERN = '^(ip|gw|ip6|gw6)=[^,\\s]+(,(ip|gw|ip6|gw6)=[^,\\s]+)*$';
/** An OpenSSH public key line. */
export const SSH_PUBLIC_KEY_PATTERN = '^(ssh|ecdsa|sk)-[^\\s]+ [A-Za-z0-9+/]+=*( .*)?$';

const storageId = (description: string, defaultValue?: string) =>
  s.string(description, { pattern: PVE_STORAGE_ID_PATTERN, maxLength: 64, default: defaultValue });

const vmid = (description: string) => s.integer(description, { minimum: VMID_MIN, maximum: VMID_MAX, format: 'int32' });

// ---------------------------------------------------------------------------------------------------------------- spec

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

export const proxmoxTemplateSpecSchema = s.object(
  'Desired state of the ProxmoxTemplate.',
  {
    connection,
    source,
    vm,
    cloudInit,
    versions,
    retainPolicy: s.stringEnum(
      'What happens to the templates this object created when it is deleted: Delete removes them, Retain leaves them on Proxmox.',
      RETAIN_POLICIES,
      { default: 'Delete' },
    ),
  },
  { required: ['connection', 'source'] },
);

// -------------------------------------------------------------------------------------------------------------- status

const currentTask = s.object(
  'The PVE task being waited for.',
  {
    upid: s.string('Task UPID.', { maxLength: 512 }),
    type: s.string('Task type, e.g. download, qmcreate, resize, qmtemplate.', { maxLength: 64 }),
    node: s.string('Node running the task.', { maxLength: 63 }),
    startedAt: s.dateTime('When the task started.'),
  },
  { required: ['upid'] },
);

const lastFailedTask = s.object(
  'The last PVE task that failed, with the end of its log.',
  {
    upid: s.string('Task UPID.', { maxLength: 512 }),
    type: s.string('Task type.', { maxLength: 64 }),
    exitStatus: s.string('The task\'s exitstatus.', { maxLength: 1024 }),
    log: s.string('Last lines of the task log.', { maxLength: 8192 }),
    finishedAt: s.dateTime('When the task ended.'),
  },
  { required: ['upid'] },
);

const version = s.object(
  'One template version built by this object.',
  {
    version: s.integer('Version number, starting at 1.', { minimum: 1, format: 'int32' }),
    vmid: vmid('VMID of the template.'),
    name: s.string('Name of the template VM.', { maxLength: 128 }),
    checksum: s.string('Checksum of the image it was built from.', { maxLength: 128 }),
    imageURL: s.string('URL of the image it was built from.', { maxLength: 2048 }),
    settingsHash: s.string('Hash of spec.vm and spec.cloudInit it was built with (a change builds a new version).', { maxLength: 64 }),
    createdAt: s.dateTime('When the template was completed.'),
  },
  { required: ['version', 'vmid'] },
);

export const BUILD_STEPS = ['download', 'create', 'resize', 'template'] as const;
export type BuildStep = (typeof BUILD_STEPS)[number];

const build = s.object(
  'The build in progress: what it makes and how far it got, so a restarted operator resumes it instead of starting over.',
  {
    id: s.string('Build id (a UUID), also the key of the build in the install history.', { maxLength: 64 }),
    version: s.integer('Version being built.', { minimum: 1, format: 'int32' }),
    vmid: vmid('VMID chosen for the new template; set before the VM is created.'),
    name: s.string('Name of the new template VM.', { maxLength: 128 }),
    imageURL: s.string('URL of the image.', { maxLength: 2048 }),
    checksum: s.string('Expected checksum of the image.', { maxLength: 128 }),
    algorithm: s.stringEnum('Algorithm of checksum.', CHECKSUM_ALGORITHMS),
    importVolume: s.string('Volume the image is downloaded to, e.g. local:import/noble-server-cloudimg-amd64-1a2b3c4d5e6f.qcow2.', { maxLength: 512 }),
    settingsHash: s.string('Hash of spec.vm and spec.cloudInit the build uses.', { maxLength: 64 }),
    step: s.stringEnum('Step in progress: download, create, resize or template.', BUILD_STEPS),
    takenVmids: s.array('VMIDs found taken by someone else during this build (skipped when choosing).', vmid('A VMID.'), { maxItems: 64 }),
    startedAt: s.dateTime('When the build started.'),
    failures: s.integer('Failed attempts of this build so far (retried with backoff).', { minimum: 0, format: 'int32' }),
  },
  { required: ['id', 'version'] },
);

export const proxmoxTemplateStatusSchema = s.object('Observed state of the ProxmoxTemplate, written by anvil.', {
  phase: s.stringEnum(
    'Build phase: Pending, Downloading (image into importStorage), Creating (VM with the imported disk), Converting (resize and convert to template), Ready, Failed, Deleting.',
    PROXMOXTEMPLATE_PHASES,
  ),
  vmid: vmid('VMID of the active template.'),
  templateName: s.string('Name of the active template VM.', { maxLength: 128 }),
  imageURL: s.string('Resolved URL of the image.', { maxLength: 2048 }),
  imageChecksum: s.string('Checksum of the image the active template was built from.', { maxLength: 128 }),
  pveVersion: s.string('Proxmox VE version reported by GET /version.', { maxLength: 64 }),
  build,
  currentTask,
  lastFailedTask,
  versions: s.array('The template versions that exist, oldest first.', version, { maxItems: 128 }),
  activeVersion: s.integer('Version in use: spec.versions.pin if set, otherwise the newest.', { minimum: 1, format: 'int32' }),
  lastCheckedAt: s.dateTime('When the upstream image was last checked for changes.'),
  nextRetryAt: s.dateTime('When a Failed build is tried again (a spec change retries at once).'),
  message: s.string('Human-readable summary of the current phase or the last error (with the PVE message).', { maxLength: 4096 }),
  conditions: s.conditions('Current conditions: Ready, Connected, SourceResolved, Building.'),
  observedGeneration: observedGeneration(),
});

export type ProxmoxTemplateSpec = s.Static<typeof proxmoxTemplateSpecSchema>;
export type ProxmoxTemplateStatus = s.Static<typeof proxmoxTemplateStatusSchema>;
export type ProxmoxTemplateVersion = NonNullable<ProxmoxTemplateStatus['versions']>[number];
export type ProxmoxTemplateBuild = NonNullable<ProxmoxTemplateStatus['build']>;

export type ProxmoxTemplate = {
  apiVersion: typeof API_VERSION;
  kind: typeof PROXMOXTEMPLATE_KIND;
  metadata: ObjectMeta;
  spec: ProxmoxTemplateSpec;
  status?: ProxmoxTemplateStatus;
};

export const proxmoxTemplateDefinition: CrdDefinition = {
  kind: PROXMOXTEMPLATE_KIND,
  plural: PROXMOXTEMPLATE_PLURAL,
  singular: PROXMOXTEMPLATE_SINGULAR,
  shortNames: PROXMOXTEMPLATE_SHORT_NAMES,
  description:
    'A ProxmoxTemplate builds a cloud-init VM template on Proxmox VE from a distribution cloud image (download, create with the imported disk, resize, convert), keeps versions as the upstream image changes, and removes what it created when deleted unless retainPolicy is Retain.',
  spec: proxmoxTemplateSpecSchema,
  status: proxmoxTemplateStatusSchema,
  printerColumns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Build phase.' },
    { name: 'Distribution', type: 'string', jsonPath: '.spec.source.distribution', description: 'Catalog distribution.' },
    { name: 'VMID', type: 'integer', jsonPath: '.status.vmid', description: 'VMID of the active template.' },
    { name: 'Version', type: 'integer', jsonPath: '.status.activeVersion', description: 'Active version.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Template', type: 'string', jsonPath: '.status.templateName', priority: 1, description: 'Name of the active template.' },
    { name: 'Node', type: 'string', jsonPath: '.spec.connection.node', priority: 1, description: 'Proxmox node.' },
  ],
};
