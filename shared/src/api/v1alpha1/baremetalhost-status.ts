// BareMetalHost status, written by anvil: lifecycle state, conditions, the install in progress and the last ones,
// boot requests seen by the boot-server, the published boot config, power and retries.
import * as s from '../schema.js';
import {
  BAREMETALHOST_ERROR_TYPES,
  BAREMETALHOST_STATES,
  BOOT_RESPONSES,
  INSTALL_EVENT_TYPES,
  INSTALL_RESULTS,
  MAX_RECENT_INSTALLS,
  POWER_STATES,
} from './baremetalhost-enums.js';
import { objectName, observedGeneration } from './common.js';

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

const installedTemplate = s.object(
  'The template content this attempt installs: the chain as rendered when its boot config was published.',
  {
    name: objectName('The AutoinstallTemplate (spec.templateRef).'),
    contentHash: s.string('The chain\'s content hash at that render (the template\'s status.contentHash then).', { maxLength: 128 }),
    revision: s.integer('The template revision (status.revisions) of that content, when the template had numbered it by then.', { minimum: 1, format: 'int64' }),
  },
  { required: ['name', 'contentHash'] },
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
    template: installedTemplate,
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
    template: installedTemplate,
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

const fact = (description: string) => s.string(description, { maxLength: 128 });

/** The facts of a machine iPXE reports in the entry script's chain (SMBIOS and firmware), as the boot-server saw them. */
export const DISCOVERY_FACTS = ['arch', 'platform', 'manufacturer', 'product', 'serial', 'uuid', 'asset'] as const;

const discovery = s.object(
  'What the boot-server saw of a machine it created this host for (boot-server --discovery=create): the facts its iPXE reported on its first boot. Only hosts labelled anvil.dev/discovered have it.',
  {
    firstSeen: s.dateTime('When the machine first asked the boot-server for its script.'),
    clientIP: s.string('The address the machine asked from.', { maxLength: 64 }),
    arch: fact('iPXE ${buildarch}: x86_64, i386, arm64...'),
    platform: fact('iPXE ${platform}: pcbios or efi.'),
    manufacturer: fact('SMBIOS system manufacturer (iPXE ${manufacturer}).'),
    product: fact('SMBIOS product name (iPXE ${product}).'),
    serial: fact('SMBIOS serial number (iPXE ${serial}).'),
    uuid: fact('SMBIOS system UUID (iPXE ${uuid}).'),
    asset: fact('SMBIOS asset tag (iPXE ${asset}).'),
  },
);

const retry = s.object('Retry bookkeeping for failed install attempts of the current revision.', {
  count: s.integer('Failed attempts retried so far for this revision.', { minimum: 0, format: 'int32' }),
  nextAttemptAt: s.dateTime('When the next attempt starts (exponential backoff); unset when no retry is scheduled.'),
});

export const bareMetalHostStatusSchema = s.object('Observed state of the BareMetalHost, written by anvil.', {
  state: s.stringEnum(
    'Lifecycle state: Pending (checking spec and references), Discovered (seen on the network, not declared; waiting for a templateRef), Ready (nothing to do), Provisioning (boot config published, waiting for the host to network-boot), Installing (installer running), Provisioned (installed; boots from local disk), Failed (the last install attempt failed; a retry is scheduled unless retries are exhausted), Deleting (being deleted; the finalizer removes the boot config).',
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
  discovery,
});
