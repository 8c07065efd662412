// ProxmoxTemplate's names, enumerations, condition types, limits and value patterns: what code outside the schema
// compares against.

export const PROXMOXTEMPLATE_KIND = 'ProxmoxTemplate';
export const PROXMOXTEMPLATE_PLURAL = 'proxmoxtemplates';
export const PROXMOXTEMPLATE_SINGULAR = 'proxmoxtemplate';
export const PROXMOXTEMPLATE_SHORT_NAMES = ['pxt'] as const;

export const PROXMOXTEMPLATE_PHASES = ['Pending', 'Downloading', 'Creating', 'Converting', 'Validating', 'Ready', 'Failed', 'Deleting'] as const;
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
  /** False while a new upstream release waits for approval (spec.updates). */
  UpdateApproved: 'UpdateApproved',
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

export const BUILD_STEPS = ['download', 'create', 'resize', 'template', 'validate'] as const;

/** The steps of a new version's validation boot. */
export const VALIDATION_STEPS = ['clone', 'start', 'boot', 'cleanup'] as const;

/** How far a new image release is from the active version's (operator/src/rollout/release-classes.ts). */
export const RELEASE_CLASSES = ['same', 'patch', 'minor', 'major', 'downgrade', 'unknown'] as const;
export type BuildStep = (typeof BUILD_STEPS)[number];
