// BareMetalHost: a physical (or virtual) machine that anvil network-installs, declared in Git or discovered on the wire.
import * as s from '../schema.js';
import type { CrdDefinition } from '../crd.js';
import {
  type API_VERSION,
  MAC_ADDRESS_PATTERN,
  DNS1123_LABEL_PATTERN,
  PAUSED_ANNOTATION,
  SECRET_KEY_PATTERN,
  VARIABLE_NAME_PATTERN,
  localObjectReference,
  objectName,
  observedGeneration,
  type ObjectMeta,
} from './common.js';

export const BAREMETALHOST_KIND = 'BareMetalHost';
export const BAREMETALHOST_PLURAL = 'baremetalhosts';
export const BAREMETALHOST_SINGULAR = 'baremetalhost';
export const BAREMETALHOST_SHORT_NAMES = ['bmh'] as const;

export const ARCHITECTURES = ['amd64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export const BOOT_MODES = ['UEFI', 'legacy'] as const;
export type BootMode = (typeof BOOT_MODES)[number];

/** The host state machine's states (see issue 3). */
export const BAREMETALHOST_STATES = [
  'Pending',
  'Discovered',
  'Ready',
  'Provisioning',
  'Installing',
  'Provisioned',
  'Failed',
  'Deprovisioning',
  'Deleting',
] as const;
export type BareMetalHostState = (typeof BAREMETALHOST_STATES)[number];

/** The installer's own result words (subiquity/curtin `result`). */
export const INSTALL_RESULTS = ['SUCCESS', 'FAIL', 'WARN'] as const;
export type InstallResult = (typeof INSTALL_RESULTS)[number];

/** subiquity/curtin reporting `event_type` values. */
export const INSTALL_EVENT_TYPES = ['start', 'finish', 'info', 'warning', 'error', 'log'] as const;
export type InstallEventType = (typeof INSTALL_EVENT_TYPES)[number];

/** What the boot-server answered to a host's request. */
export const BOOT_RESPONSES = [
  'InstallScript',
  'LocalBootScript',
  'MetaData',
  'UserData',
  'VendorData',
  'NetworkConfig',
  'Kernel',
  'Initrd',
  'ISO',
  'Rejected',
] as const;
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
  'DeprovisioningError',
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

// ---------------------------------------------------------------------------------------------------------------- spec

const secretRef = s.object(
  'A value (or all values) of a Secret made available to the templates under a variable name. Secret values are never logged and never written to status.',
  {
    name: objectName('Name of the Secret, in the same namespace as the host.'),
    key: s.string(
      "Key in the Secret's data. If set, the variable is that value as a string; if omitted, the variable is an object holding every key of the Secret.",
      { pattern: SECRET_KEY_PATTERN, maxLength: 253 },
    ),
    variable: s.string('Name of the template variable that receives the value, e.g. passwordHash. Must be unique within secretRefs.', {
      pattern: VARIABLE_NAME_PATTERN,
      maxLength: 63,
    }),
  },
  { required: ['name', 'variable'] },
);

const provisioning = s.object(
  'When and how anvil installs the host.',
  {
    allowed: s.boolean(
      'Whether the host may be installed now. false keeps it out of Provisioning (an install in progress is left to finish, and the boot-server tells the host to boot from local disk when no install is running).',
      { default: true },
    ),
    revision: s.integer(
      'Install generation asked for, GitOps-style: the host is installed once for each value. Increase it (for example from 0 to 1) to request a reinstall; status.provisionedRevision shows the revision installed last.',
      { minimum: 0, default: 0, format: 'int64' },
    ),
    timeoutSeconds: s.integer(
      'How long an install attempt may go without progress (no boot request and no installer event) before it is failed.',
      { minimum: 60, default: 3600, format: 'int32' },
    ),
    maxRetries: s.integer(
      'How many times a failed install attempt is retried (with exponential backoff) before the host stays Failed. 0 disables retries.',
      { minimum: 0, default: 3, format: 'int32' },
    ),
  },
  { default: {} },
);

const bmc = s.object(
  'The host\'s baseboard management controller, for power control without hands. Without it anvil cannot power the host or set its boot device; someone must boot it into PXE.',
  {
    address: s.string(
      'Address of the BMC; the scheme selects the driver: ipmi://host[:port], redfish://host[:port]/redfish/v1/Systems/<id> (HTTPS), redfish+http://host[:port]/redfish/v1/Systems/<id> (plain HTTP, labs only), wol://[broadcast-address[:port]] (Wake-on-LAN magic packet to bootMACAddress; power on only), proxmox://<node>/<vmid> (a Proxmox VE virtual machine).',
      { pattern: BMC_ADDRESS_PATTERN, maxLength: 2048 },
    ),
    credentialsSecretRef: localObjectReference(
      'Secret with the BMC credentials: keys username and password for ipmi and redfish; for proxmox, url (the API URL), token (PVEAPIToken value USER@REALM!TOKENID=SECRET) and optionally ca.crt. Not needed for wol.',
      'Name of the Secret, in the same namespace as the host.',
    ),
    disableCertificateVerification: s.boolean('Skip TLS certificate verification when talking to the BMC (redfish, proxmox). Only for labs.', {
      default: false,
    }),
  },
  { required: ['address'] },
);

const reboot = s.object(
  'A declarative reboot request that works from Git: the host is rebooted once each time requestId changes. A requestId already present when the host is first seen is recorded without rebooting.',
  {
    requestId: s.string('Any value; changing it (e.g. to a timestamp) requests one reboot. status.power.lastRebootRequestId shows the last one carried out.', {
      minLength: 1,
      maxLength: 128,
    }),
    mode: s.stringEnum('Soft asks the operating system to restart (ACPI), falling back to Hard after a timeout; Hard resets the machine at once.', REBOOT_MODES, {
      default: 'Soft',
    }),
  },
  { required: ['requestId'] },
);

export const bareMetalHostSpecSchema = s.object(
  'Desired state of the BareMetalHost.',
  {
    bootMACAddress: s.string(
      'MAC address of the network interface the host boots from over the network, as six colon-separated hex octets (either case; compared case-insensitively). Must be unique among all BareMetalHosts: a second host with the same MAC is refused in its status.',
      { pattern: MAC_ADDRESS_PATTERN },
    ),
    architecture: s.stringEnum('CPU architecture of the host; selects the iPXE binary, kernel and installer image.', ARCHITECTURES, {
      default: 'amd64',
    }),
    bootMode: s.stringEnum('Firmware boot mode: UEFI or legacy (BIOS).', BOOT_MODES, { default: 'UEFI' }),
    hostname: s.string('Hostname given to the installed system (an RFC 1123 label). Defaults to metadata.name.', {
      pattern: DNS1123_LABEL_PATTERN,
      maxLength: 63,
    }),
    templateRef: localObjectReference(
      'The AutoinstallTemplate (in the same namespace) that renders this host\'s installer configuration. A host without one is never installed; Discovered hosts are accepted by setting it.',
      'Name of the AutoinstallTemplate.',
    ),
    variables: s.freeForm(
      "Variables for this host's templates (any YAML). They are deep-merged over the template chain's defaults, this host's values winning.",
    ),
    secretRefs: s.array('Secret values exposed to the templates as variables (password hashes, SSH keys, tokens).', secretRef, {
      listType: 'map',
      listMapKeys: ['variable'],
      maxItems: 64,
    }),
    networkConfig: s.freeForm(
      'Network configuration for the installed system in netplan version 2 format (the content of the network: key, e.g. {version: 2, ethernets: {...}}). Overrides the networkConfig rendered from the template; served to the installer as NoCloud network-config.',
    ),
    provisioning,
    bmc,
    online: s.boolean(
      'Desired power state, enforced through spec.bmc: true keeps the host powered on, false powered off. If unset, anvil changes power only to start an install or for spec.reboot. Ignored without spec.bmc.',
    ),
    reboot,
  },
  { required: ['bootMACAddress'] },
);

// -------------------------------------------------------------------------------------------------------------- status

const installResult = (description: string) => s.stringEnum(description, INSTALL_RESULTS);

const lastEvent = s.object(
  'The last installer event received for this attempt.',
  {
    name: s.string('Event name as sent by the installer, e.g. subiquity/Install/install/curthooks.', { maxLength: 512 }),
    type: s.stringEnum('Event type as sent by the installer.', INSTALL_EVENT_TYPES),
    result: installResult('Result carried by a finish event.'),
    description: s.string('Event description as sent by the installer (truncated).', { maxLength: 1024 }),
    time: s.dateTime('When the event happened (the installer\'s timestamp).'),
    receivedAt: s.dateTime('When the boot-server received it (its own clock; the install timeout counts from here, whatever the installer\'s clock says).'),
  },
  { required: ['name', 'type', 'time'] },
);

const installFailure = s.object(
  'Why the install is failing or failed: the deepest failing installer step (a failure nested in the install marks it failing; the installer\'s top-level result decides).',
  {
    stage: s.string('Install stage the failing step belongs to, e.g. partitioning, extract, curthooks; unknown when the step\'s name does not tell.', { maxLength: 64 }),
    reason: s.string('The failing step\'s description (what went wrong), truncated.', { maxLength: 1024 }),
    event: s.string('Name of the failing installer event, e.g. subiquity/Install/install/.../cmd-block-meta.', { maxLength: 512 }),
  },
  { required: ['stage', 'reason'] },
);

const currentInstall = s.object(
  'The install attempt in progress, or the last one if none is running.',
  {
    attempt: s.integer('Install attempt number of this host, starting at 1; every retry and every reinstall takes the next number.', { minimum: 1, format: 'int32' }),
    revision: s.integer('The spec.provisioning.revision this attempt installs.', { minimum: 0, format: 'int64' }),
    installationId: s.string('Identifier of this attempt in the install-history database (a UUID).', { format: 'uuid' }),
    startedAt: s.dateTime('When the attempt started (the host entered Provisioning).'),
    phase: s.string('Installer phase derived from the latest event, e.g. curthooks.', { maxLength: 256 }),
    progress: s.string('Short progress summary shown by kubectl get, e.g. "12/30 curtin".', { maxLength: 64 }),
    lastEvent,
    finishedAt: s.dateTime('When the attempt finished; unset while it runs.'),
    result: installResult('Result of the attempt once finished.'),
    failure: installFailure,
  },
  { required: ['attempt', 'revision', 'startedAt'] },
);

const lastBootRequest = s.object(
  'The last request the boot-server received from this host.',
  {
    time: s.dateTime('When the request arrived.'),
    clientIP: s.string('IP address the request came from.', { maxLength: 45 }),
    path: s.string('Requested path (tokens redacted).', { maxLength: 1024 }),
    served: s.stringEnum('What the boot-server answered.', BOOT_RESPONSES),
  },
  { required: ['time'] },
);

const recentInstall = s.object(
  'Summary of one finished install attempt.',
  {
    attempt: s.integer('Install attempt number of this host.', { minimum: 1, format: 'int32' }),
    revision: s.integer('The spec.provisioning.revision installed.', { minimum: 0, format: 'int64' }),
    installationId: s.string('Identifier of the attempt in the install-history database (a UUID).', { format: 'uuid' }),
    startedAt: s.dateTime('When the attempt started.'),
    finishedAt: s.dateTime('When the attempt finished.'),
    result: installResult('Result of the attempt; timeouts and aborts count as FAIL.'),
    durationSeconds: s.integer('Duration of the attempt in seconds.', { minimum: 0, format: 'int64' }),
    reason: s.string('Why the attempt ended, in CamelCase (e.g. Succeeded, InstallerFailed, Timeout, Superseded).', { maxLength: 128 }),
    failedStage: s.string('For a failed install: the stage of the deepest failing installer step, e.g. partitioning.', { maxLength: 64 }),
    message: s.string('For a failed install: what went wrong (the failing step\'s description, or the timeout).', { maxLength: 1024 }),
  },
  { required: ['attempt', 'revision', 'startedAt'] },
);

const bootConfig = s.object(
  'The per-host boot config the operator published for the boot-server.',
  {
    secretName: objectName('Name of the Secret (owned by this host) holding the iPXE script, NoCloud files and token hash.'),
    hash: s.string('Hash of the published content; changes whenever what the host receives changes.', { maxLength: 128 }),
    publishedAt: s.dateTime('When this content was published.'),
  },
);

const power = s.object('Power state as last read from the BMC, and the power requests carried out.', {
  state: s.stringEnum('Observed power state (Unknown when the BMC cannot be read, or for Wake-on-LAN, which has no way to ask).', POWER_STATES),
  observedAt: s.dateTime('When the power state was read and found to be this value (the BMC is polled regularly; status is written only when the state changes).'),
  lastRebootRequestId: s.string('spec.reboot.requestId of the last reboot carried out (or recorded).', { maxLength: 128 }),
  lastRebootAt: s.dateTime('When the last reboot was carried out.'),
  lastProvisioningAttempt: s.integer(
    'status.currentInstall.attempt for which anvil last set the next boot to the network and powered the host on (or reset it). Each install attempt is power-cycled at most once.',
    { minimum: 1, format: 'int32' },
  ),
  lastProvisioningAt: s.dateTime('When that provisioning power cycle was carried out.'),
  error: s.string('The last power-control failure (BMC unreachable, credentials refused, action not supported...); empty once the BMC answers and actions succeed again. Details are also in the BMCReachable and CredentialsValid conditions and in events.', { maxLength: 1024 }),
});

const retry = s.object('Retry bookkeeping for failed install attempts of the current revision.', {
  count: s.integer('Failed attempts retried so far for this revision.', { minimum: 0, format: 'int32' }),
  nextAttemptAt: s.dateTime('When the next attempt starts (exponential backoff); unset when no retry is scheduled.'),
});

export const bareMetalHostStatusSchema = s.object('Observed state of the BareMetalHost, written by anvil.', {
  state: s.stringEnum(
    'Lifecycle state: Pending (checking spec and references), Discovered (seen on the network, not declared; waiting for a templateRef), Ready (nothing to do), Provisioning (boot config published, waiting for the host to network-boot), Installing (installer running), Provisioned (installed; boots from local disk), Failed (install failed, retries exhausted), Deprovisioning, Deleting.',
    BAREMETALHOST_STATES,
  ),
  conditions: s.conditions(
    'Current conditions: Ready, Provisioned, BootConfigReady, Installing, and with spec.bmc BMCReachable and CredentialsValid.',
  ),
  observedGeneration: observedGeneration(),
  provisionedRevision: s.integer('The spec.provisioning.revision installed by the last successful install.', {
    minimum: 0,
    format: 'int64',
  }),
  currentInstall,
  lastBootRequest,
  errorCount: s.integer('Consecutive errors since the last success; reset when the host reaches its desired state.', {
    minimum: 0,
    format: 'int32',
  }),
  errorMessage: s.string('Message of the last error; empty when there is none.', { maxLength: 4096 }),
  errorType: s.stringEnum('Kind of the last error.', BAREMETALHOST_ERROR_TYPES),
  retry,
  recentInstalls: s.array(
    `The last ${MAX_RECENT_INSTALLS} finished install attempts, newest first (the full history is in the install-history database).`,
    recentInstall,
    { maxItems: MAX_RECENT_INSTALLS },
  ),
  bootConfig,
  power,
});

export type BareMetalHostSpec = s.Static<typeof bareMetalHostSpecSchema>;
export type BareMetalHostStatus = s.Static<typeof bareMetalHostStatusSchema>;
export type BareMetalHostCurrentInstall = NonNullable<BareMetalHostStatus['currentInstall']>;
export type BareMetalHostRecentInstall = NonNullable<BareMetalHostStatus['recentInstalls']>[number];
export type BareMetalHostSecretRef = NonNullable<BareMetalHostSpec['secretRefs']>[number];

export type BareMetalHost = {
  apiVersion: typeof API_VERSION;
  kind: typeof BAREMETALHOST_KIND;
  metadata: ObjectMeta;
  spec: BareMetalHostSpec;
  status?: BareMetalHostStatus;
};

export const bareMetalHostDefinition: CrdDefinition = {
  kind: BAREMETALHOST_KIND,
  plural: BAREMETALHOST_PLURAL,
  singular: BAREMETALHOST_SINGULAR,
  shortNames: BAREMETALHOST_SHORT_NAMES,
  description: `A BareMetalHost is a machine that anvil installs over the network: it PXE-boots from spec.bootMACAddress, receives an installer configuration rendered from spec.templateRef, and reports its install progress in status. Set spec.provisioning.revision higher to reinstall. The annotation ${PAUSED_ANNOTATION} stops reconciliation without losing state.`,
  spec: bareMetalHostSpecSchema,
  status: bareMetalHostStatusSchema,
  printerColumns: [
    { name: 'State', type: 'string', jsonPath: '.status.state', description: 'Lifecycle state.' },
    { name: 'MAC', type: 'string', jsonPath: '.spec.bootMACAddress', description: 'Boot MAC address.' },
    { name: 'Template', type: 'string', jsonPath: '.spec.templateRef.name', description: 'AutoinstallTemplate used.' },
    { name: 'Progress', type: 'string', jsonPath: '.status.currentInstall.progress', description: 'Install progress.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Hostname', type: 'string', jsonPath: '.spec.hostname', priority: 1, description: 'Hostname of the installed system.' },
    { name: 'Revision', type: 'integer', jsonPath: '.status.provisionedRevision', priority: 1, description: 'Revision installed last.' },
    { name: 'Power', type: 'string', jsonPath: '.status.power.state', priority: 1, description: 'Observed power state.' },
  ],
};
