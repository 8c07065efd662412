// BareMetalHost's names, enumerations, condition types and limits: what code outside the schema compares against.

export const BAREMETALHOST_KIND = 'BareMetalHost';
export const BAREMETALHOST_PLURAL = 'baremetalhosts';
export const BAREMETALHOST_SINGULAR = 'baremetalhost';
export const BAREMETALHOST_SHORT_NAMES = ['bmh'] as const;

export const ARCHITECTURES = ['amd64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export const BOOT_MODES = ['UEFI', 'legacy'] as const;
export type BootMode = (typeof BOOT_MODES)[number];

/**
 * The host state machine's states (see issue 3). Deletion is Deleting (the finalizer removes the boot config); there is
 * no Deprovisioning: wiping a machine's disks on delete would need a wipe image anvil does not build (docs/status.md).
 */
export const BAREMETALHOST_STATES = ['Pending', 'Discovered', 'Ready', 'Provisioning', 'Installing', 'Provisioned', 'Failed', 'Deleting'] as const;
export type BareMetalHostState = (typeof BAREMETALHOST_STATES)[number];

/** The installer's own result words (subiquity/curtin `result`). */
export const INSTALL_RESULTS = ['SUCCESS', 'FAIL', 'WARN'] as const;
export type InstallResult = (typeof INSTALL_RESULTS)[number];

/** subiquity/curtin reporting `event_type` values. */
export const INSTALL_EVENT_TYPES = ['start', 'finish', 'info', 'warning', 'error', 'log'] as const;
export type InstallEventType = (typeof INSTALL_EVENT_TYPES)[number];

/** What the boot-server answered to a host's request. */
export const BOOT_RESPONSES = ['InstallScript', 'LocalBootScript', 'MetaData', 'UserData', 'VendorData', 'NetworkConfig', 'IgnitionConfig', 'PreseedFile', 'Kernel', 'Initrd', 'ISO', 'Rejected'] as const;
export type BootResponse = (typeof BOOT_RESPONSES)[number];

export const POWER_STATES = ['On', 'Off', 'Unknown'] as const;
export type PowerState = (typeof POWER_STATES)[number];

export const REBOOT_MODES = ['Soft', 'Hard'] as const;
export type RebootMode = (typeof REBOOT_MODES)[number];

/** Schemes of spec.bmc.address; the scheme selects the power driver. */
export const BMC_SCHEMES = ['ipmi', 'redfish', 'redfish+http', 'wol', 'proxmox'] as const;
export type BmcScheme = (typeof BMC_SCHEMES)[number];
export const BMC_ADDRESS_PATTERN = '^(ipmi|redfish|redfish\\+http|wol|proxmox)://[^\\s]*$';

export const BAREMETALHOST_ERROR_TYPES = [
  'ValidationError',
  'TemplateError',
  'BootConfigError',
  'InstallFailed',
  'InstallTimeout',
  'PowerManagementError',
] as const;
export type BareMetalHostErrorType = (typeof BAREMETALHOST_ERROR_TYPES)[number];

export const BAREMETALHOST_CONDITIONS = {
  /** Spec, template and references are valid and nothing blocks the host (duplicate MAC, missing Secret...). */
  Ready: 'Ready',
  /** The current provisioning revision has been installed successfully. */
  Provisioned: 'Provisioned',
  /** The per-host boot config is rendered, valid and published for the boot-server. */
  BootConfigReady: 'BootConfigReady',
  /** An install is in progress. */
  Installing: 'Installing',
  /** The BMC answers (power control). */
  BMCReachable: 'BMCReachable',
  /** The BMC accepted the credentials. */
  CredentialsValid: 'CredentialsValid',
} as const;
export type BareMetalHostConditionType = (typeof BAREMETALHOST_CONDITIONS)[keyof typeof BAREMETALHOST_CONDITIONS];

/** How many finished installs status.recentInstalls keeps (the full history lives in the install-history database). */
export const MAX_RECENT_INSTALLS = 10;
