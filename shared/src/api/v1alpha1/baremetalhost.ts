// BareMetalHost: a physical (or virtual) machine that anvil network-installs, declared in Git or discovered on the wire.
// Its names and enumerations, spec schema and status schema live in baremetalhost-*.ts; this file puts them together.
import type * as s from '../schema.js';
import type { CrdDefinition } from '../crd.js';
import type { CustomObject } from '../../kube/types.js';
import { type API_VERSION, PAUSED_ANNOTATION } from './common.js';
import { BAREMETALHOST_KIND, BAREMETALHOST_PLURAL, BAREMETALHOST_SHORT_NAMES, BAREMETALHOST_SINGULAR } from './baremetalhost-enums.js';
import { bareMetalHostSpecSchema } from './baremetalhost-spec.js';
import { bareMetalHostStatusSchema } from './baremetalhost-status.js';

export * from './baremetalhost-enums.js';
export { bareMetalHostSpecSchema } from './baremetalhost-spec.js';
export { bareMetalHostStatusSchema, DISCOVERY_FACTS } from './baremetalhost-status.js';

export type BareMetalHostSpec = s.Static<typeof bareMetalHostSpecSchema>;
export type BareMetalHostStatus = s.Static<typeof bareMetalHostStatusSchema>;
export type BareMetalHostCurrentInstall = NonNullable<BareMetalHostStatus['currentInstall']>;
export type BareMetalHostRecentInstall = NonNullable<BareMetalHostStatus['recentInstalls']>[number];
export type BareMetalHostSecretRef = NonNullable<BareMetalHostSpec['secretRefs']>[number];

export interface BareMetalHost extends CustomObject<typeof BAREMETALHOST_KIND, BareMetalHostSpec, BareMetalHostStatus> {
  apiVersion: typeof API_VERSION;
}

export const bareMetalHostDefinition: CrdDefinition = {
  kind: BAREMETALHOST_KIND, plural: BAREMETALHOST_PLURAL, singular: BAREMETALHOST_SINGULAR, shortNames: BAREMETALHOST_SHORT_NAMES,
  description: `A BareMetalHost is a machine that anvil installs over the network: it PXE-boots from spec.bootMACAddress, receives an installer configuration rendered from spec.templateRef, and reports its install progress in status. Set spec.provisioning.revision higher to reinstall. The annotation ${PAUSED_ANNOTATION} stops reconciliation without losing state.`,
  spec: bareMetalHostSpecSchema, status: bareMetalHostStatusSchema,
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
