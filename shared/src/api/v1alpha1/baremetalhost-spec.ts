// BareMetalHost spec: what a host is (boot MAC, architecture, template, variables, BMC) and what is asked of it
// (install revision, power, reboots).
import * as s from '../schema.js';
import { BMC_ADDRESS_PATTERN, ARCHITECTURES, BOOT_MODES, REBOOT_MODES } from './baremetalhost-enums.js';
import { IPV4_PATTERN, MAC_ADDRESS_PATTERN, DNS1123_LABEL_PATTERN, SECRET_KEY_PATTERN, VARIABLE_NAME_PATTERN, localObjectReference, objectName } from './common.js';

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
    bootIPAddress: s.string(
      "IPv4 address anvil's managed DHCP (boot-server --managed-dhcp-pool) gives the boot interface, a reservation: it may lie outside the pool and is never given to another machine. Ignored by any other DHCP server.",
      { pattern: IPV4_PATTERN },
    ),
    architecture: s.stringEnum('CPU architecture of the host; selects the iPXE binary, kernel and installer image.', ARCHITECTURES, {
      default: 'amd64',
    }),
    bootMode: s.stringEnum('Firmware boot mode: UEFI or legacy (BIOS).', BOOT_MODES, { default: 'UEFI' }),
    hostname: s.string('Hostname given to the installed system (an RFC 1123 label). Defaults to metadata.name.', {
      pattern: DNS1123_LABEL_PATTERN,
      maxLength: 63,
    }),
    templateRef: s.object(
      'The AutoinstallTemplate (in the same namespace) that renders this host\'s installer configuration. A host without one is never installed; Discovered hosts are accepted by setting it.',
      {
        name: objectName('Name of the AutoinstallTemplate.'),
        revision: s.integer(
          'Install this kept revision of the template\'s chain (status.revisions[].revision, kept in a ControllerRevision) instead of its current content. Set by the template\'s rollout (a wave installs its target revision, a rollback the previous one) or by hand to pin a host; the host is refused (TemplateRevisionNotKept) when that revision is no longer kept.',
          { minimum: 1, format: 'int64' },
        ),
      },
      { required: ['name'] },
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
