// AutoinstallTemplate: nunjucks templates for the files an installer needs, plus the boot recipe, composable by name.
import * as s from '../schema.js';
import type { CrdDefinition } from '../crd.js';
import type { CustomObject } from '../../kube/types.js';
import { type API_VERSION, HTTP_URL_PATTERN, SHA256_PATTERN, objectName, observedGeneration } from './common.js';
import { rolloutPolicySchema, rolloutStatusSchema } from './rollout.js';

export const AUTOINSTALLTEMPLATE_KIND = 'AutoinstallTemplate';
export const AUTOINSTALLTEMPLATE_PLURAL = 'autoinstalltemplates';
export const AUTOINSTALLTEMPLATE_SINGULAR = 'autoinstalltemplate';
export const AUTOINSTALLTEMPLATE_SHORT_NAMES = ['ait'] as const;

export const AUTOINSTALLTEMPLATE_CONDITIONS = {
  /** The template chain resolves and every template in it compiles. */
  Valid: 'Valid',
} as const;
export type AutoinstallTemplateConditionType = (typeof AUTOINSTALLTEMPLATE_CONDITIONS)[keyof typeof AUTOINSTALLTEMPLATE_CONDITIONS];

/** The installer kinds a template can be written for (operator/src/installers has one module per kind). */
export const INSTALLER_KINDS = ['ubuntu-autoinstall', 'ignition', 'debian-preseed'] as const;
export type InstallerKind = (typeof INSTALLER_KINDS)[number];
/** The kind of templates that do not say (every template written before spec.installer existed). */
export const DEFAULT_INSTALLER: InstallerKind = 'ubuntu-autoinstall';

/** Upper bound for one template string (the whole object must stay well below etcd's 1.5 MiB limit). */
export const MAX_TEMPLATE_LENGTH = 262144;

const template = (description: string) => s.string(description, { maxLength: MAX_TEMPLATE_LENGTH });

const artifact = (what: string) =>
  s.object(
    `The ${what}: where to download it and its checksum. The boot-server fetches it once, verifies it and serves it from its cache.`,
    {
      url: s.string(`http(s) URL of the ${what}.`, { pattern: HTTP_URL_PATTERN, maxLength: 2048 }),
      sha256: s.string(`SHA-256 of the ${what}, 64 hex digits; the download is refused if it does not match.`, { pattern: SHA256_PATTERN }),
    },
    { required: ['url', 'sha256'] },
  );

const boot = s.object(
  'The boot recipe: what the host network-boots into to run the installer. Fields left unset are inherited from the base template (extends).',
  {
    kernel: artifact('installer kernel'),
    initrd: artifact('installer initrd'),
    iso: artifact('installer ISO image (optional; e.g. the Ubuntu live-server ISO passed as url= to casper)'),
    kernelArgs: template(
      'Kernel command line, a nunjucks template rendered per host. For ubuntu-autoinstall anvil adds autoinstall, ds=nocloud-net;s=<the host\'s seed URL>/ and, when boot.iso is set, url=<the ISO in anvil\'s asset cache> (unless the template passes its own url=), inserted before any "---" so they do not persist into the installed system. For ignition anvil adds ignition.config.url=<the host\'s tokenised config URL>, ignition.platform.id=metal and flatcar.first_boot=1. For debian-preseed anvil adds auto=true priority=critical url=<the host\'s tokenised preseed URL> interface=auto netcfg/get_hostname=<host> netcfg/get_domain=<domain> log_host=<boot-server> log_port=<syslog port, 5514 unless the template sets log_port>, before any "---".',
    ),
  },
);

export const autoinstallTemplateSpecSchema = s.object('Desired state of the AutoinstallTemplate.', {
  installer: s.stringEnum(
    'The installer this template is written for, which decides the files anvil renders and serves, the kernel arguments it adds and how the install reports its result. ubuntu-autoinstall (the default): Ubuntu\'s subiquity installer with NoCloud user-data, meta-data, network-config and vendor-data, reporting through its webhook reporter. ignition: systems configured by Ignition (spec v3: Flatcar Container Linux, Fedora CoreOS), booted over PXE with the config in the ignition field; anvil adds a one-shot systemd unit that reports the finished boot. debian-preseed: Debian\'s installer (d-i) with the preseed file in the preseed field, reporting through preseed early/late commands anvil adds and d-i\'s syslog. Every template of an extends chain must name the same installer (includes may be of any kind).',
    INSTALLER_KINDS,
    { default: DEFAULT_INSTALLER },
  ),
  extends: objectName(
    'Name of a base AutoinstallTemplate in the same namespace. Fields left unset here are inherited from the base, defaults are deep-merged (this template winning), and a file this template sets replaces the base\'s entirely unless its source starts with {% extends "<base>" %}, in which case it overrides the base\'s {% block %}s. Chains may be several levels deep; cycles are reported as Valid=False.',
  ),
  includes: s.array(
    'Names of AutoinstallTemplates in the same namespace whose templates can be pulled in with {% include %} / {% import %} (e.g. shared macros or per-role snippets). Their defaults are merged in list order, below this template\'s own.',
    objectName('Name of an AutoinstallTemplate in the same namespace.'),
    { maxItems: 32 },
  ),
  defaults: s.freeForm('Default template variables (any YAML), overridden by the host\'s spec.variables.'),
  userData: template(
    'Nunjucks template of the NoCloud user-data: Ubuntu autoinstall as #cloud-config with a top-level autoinstall: key. Rendered with autoescape off and undefined variables as errors; anvil adds the reporting webhook. Passwords are never published in clear: write {{ <secret variable> | password_hash | yaml }} (a SHA-512 crypt hash of a password from the host\'s spec.secretRefs) or a crypt(3) hash; a rendered plain-text password (identity.password, password, chpasswd, users[].plain_text_passwd...) is refused.',
  ),
  metaData: template('Nunjucks template of the NoCloud meta-data. If unset, anvil serves instance-id and local-hostname.'),
  networkConfig: template(
    'Nunjucks template of the NoCloud network-config (netplan version 2). A host\'s spec.networkConfig takes precedence.',
  ),
  vendorData: template('Nunjucks template of the NoCloud vendor-data. Served empty if unset. A #cloud-config vendor-data with a plain-text password is refused, as for userData.'),
  ignition: template(
    'For installer: ignition, the nunjucks template of the host\'s Ignition config (spec v3.0.0 to v3.4.0), written as JSON or YAML (YAML is converted to JSON). Rendered with the same sandbox, variables and secretRefs as userData, then validated before anything is published: ignition.version must be a supported 3.x.y version, storage, systemd and passwd must have the types of the v3 spec, and passwd.users[].passwordHash must be a crypt(3) hash (write {{ <secret variable> | password_hash | json }}). anvil adds the unit anvil-report-finish.service, which posts the install\'s result to anvil once the system has booted. Served as application/json at the host\'s tokenised ignition.config.url.',
  ),
  preseed: template(
    'For installer: debian-preseed, the nunjucks template of the host\'s preseed file (debconf-set-selections format: owner question type value, one per line, "\\" continues a line). Rendered with the same sandbox, variables and secretRefs as userData, then validated before anything is published: every line well-formed with a debconf type, booleans true or false, question names of d-i\'s known owners, the answers an unattended install needs present (locale, keyboard, hostname, mirror, root password or root login off, partitioning method, finish-install/reboot_in_progress), and no plain-text password (passwd/root-password and passwd/user-password are refused: use the -crypted questions with {{ <secret variable> | password_hash }}). anvil adds preseed/early_command and preseed/late_command hooks (after the template\'s own, joined with ;) that report the install to anvil. Served as text/plain at the host\'s tokenised preseed URL.',
  ),
  boot,
  rollout: rolloutPolicySchema,
});

/** How many revisions of a template's chain status.revisions (and the ControllerRevisions) keep. */
export const MAX_TEMPLATE_REVISIONS = 10;

export const autoinstallTemplateStatusSchema = s.object('Observed state of the AutoinstallTemplate, written by anvil.', {
  conditions: s.conditions('Current conditions: Valid (the chain resolves and every template compiles; the nunjucks error and line otherwise); RolloutHealthy (False when a rollout\'s rollback failed and a person must look).'),
  observedGeneration: observedGeneration(),
  resolvedChain: s.array(
    'The template chain as resolved last: base templates first, this template last (includes are not listed).',
    objectName('Name of an AutoinstallTemplate.'),
    { maxItems: 32 },
  ),
  contentHash: s.string('Hash of the resolved content of the whole chain; changes when any template in it changes.', { maxLength: 128 }),
  message: s.string('Human-readable summary of the last validation.', { maxLength: 4096 }),
  revisions: s.array(
    `The last ${MAX_TEMPLATE_REVISIONS} revisions of the resolved chain, newest first: each valid content the chain had, numbered, with the ControllerRevision (apps/v1, owned by this template) that keeps it immutable for \`anvil templates diff\`.`,
    s.object(
      'One revision of the resolved chain.',
      {
        revision: s.integer('Revision number, from 1, one more for each new content.', { minimum: 1, format: 'int64' }),
        contentHash: s.string('status.contentHash of this content.', { maxLength: 128 }),
        controllerRevision: objectName('Name of the ControllerRevision holding the chain\'s specs of this revision.'),
        createdAt: s.dateTime('When anvil first saw this content.'),
      },
      { required: ['revision', 'contentHash', 'controllerRevision', 'createdAt'] },
    ),
    { maxItems: MAX_TEMPLATE_REVISIONS },
  ),
  rollout: rolloutStatusSchema,
});


export type AutoinstallTemplateSpec = s.Static<typeof autoinstallTemplateSpecSchema>;
export type AutoinstallTemplateStatus = s.Static<typeof autoinstallTemplateStatusSchema>;
export type AutoinstallTemplateBoot = NonNullable<AutoinstallTemplateSpec['boot']>;
export type BootArtifact = NonNullable<AutoinstallTemplateBoot['kernel']>;

export interface AutoinstallTemplate extends CustomObject<typeof AUTOINSTALLTEMPLATE_KIND, AutoinstallTemplateSpec, AutoinstallTemplateStatus> {
  apiVersion: typeof API_VERSION;
}

export const autoinstallTemplateDefinition: CrdDefinition = {
  kind: AUTOINSTALLTEMPLATE_KIND, plural: AUTOINSTALLTEMPLATE_PLURAL, singular: AUTOINSTALLTEMPLATE_SINGULAR, shortNames: AUTOINSTALLTEMPLATE_SHORT_NAMES,
  description:
    'An AutoinstallTemplate holds nunjucks templates for the files an installer needs (NoCloud user-data, meta-data, network-config, vendor-data for Ubuntu autoinstall; an Ignition config for Flatcar and Fedora CoreOS; a preseed file for Debian) and the boot recipe (kernel, initrd, optional ISO, kernel arguments). BareMetalHosts reference one by name; templates compose through extends and includes.',
  spec: autoinstallTemplateSpecSchema, status: autoinstallTemplateStatusSchema,
  printerColumns: [
    { name: 'Valid', type: 'string', jsonPath: '.status.conditions[?(@.type=="Valid")].status', description: 'Whether the template chain is valid.' },
    { name: 'Installer', type: 'string', jsonPath: '.spec.installer', description: 'The installer kind.' },
    { name: 'Extends', type: 'string', jsonPath: '.spec.extends', description: 'Base template.' },
    { name: 'Revision', type: 'integer', jsonPath: '.status.revisions[0].revision', description: 'The newest revision of the chain.' },
    { name: 'Rollout', type: 'string', jsonPath: '.status.rollout.phase', description: 'Where the rollout of the newest revision is (with spec.rollout).' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Message', type: 'string', jsonPath: '.status.conditions[?(@.type=="Valid")].message', priority: 1, description: 'Validation message.' },
  ],
};
