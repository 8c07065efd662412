// ProxmoxTemplate: a versioned cloud-init VM template on Proxmox VE, built from a distribution cloud image.
// Its names and enumerations, spec schema and status schema live in proxmoxtemplate-*.ts; this file puts them together.
import type * as s from '../schema.js';
import type { CrdDefinition } from '../crd.js';
import type { API_VERSION, ObjectMeta } from './common.js';
import { PROXMOXTEMPLATE_KIND, PROXMOXTEMPLATE_PLURAL, PROXMOXTEMPLATE_SHORT_NAMES, PROXMOXTEMPLATE_SINGULAR } from './proxmoxtemplate-enums.js';
import { proxmoxTemplateSpecSchema } from './proxmoxtemplate-spec.js';
import { proxmoxTemplateStatusSchema } from './proxmoxtemplate-status.js';

export * from './proxmoxtemplate-enums.js';
export { proxmoxTemplateSpecSchema } from './proxmoxtemplate-spec.js';
export { proxmoxTemplateStatusSchema } from './proxmoxtemplate-status.js';

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
  kind: PROXMOXTEMPLATE_KIND, plural: PROXMOXTEMPLATE_PLURAL, singular: PROXMOXTEMPLATE_SINGULAR, shortNames: PROXMOXTEMPLATE_SHORT_NAMES,
  description:
    'A ProxmoxTemplate builds a cloud-init VM template on Proxmox VE from a distribution cloud image (download, create with the imported disk, resize, convert), keeps versions as the upstream image changes, and removes what it created when deleted unless retainPolicy is Retain.',
  spec: proxmoxTemplateSpecSchema, status: proxmoxTemplateStatusSchema,
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
