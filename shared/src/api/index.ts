// The anvil.dev API: TypeScript types, schema constants and the CRDs generated from them.
import { buildCrd, type CrdDefinition, type CustomResourceDefinition } from './crd.js';
import { autoinstallTemplateDefinition, bareMetalHostDefinition, proxmoxTemplateDefinition } from './v1alpha1/index.js';

export * from './v1alpha1/index.js';
export { AnvilResources } from './types.js';
export { buildCrd, crdName, type CrdDefinition, type CustomResourceDefinition, type PrinterColumn } from './crd.js';
export type { Condition, ConditionStatus } from './schema.js';
export { CONDITION_STATUSES } from './schema.js';

export const anvilCrdDefinitions: readonly CrdDefinition[] = [bareMetalHostDefinition, autoinstallTemplateDefinition, proxmoxTemplateDefinition];

/** The three CRDs (BareMetalHost, AutoinstallTemplate, ProxmoxTemplate) as plain objects, ready to apply. */
export const anvilCrds: readonly CustomResourceDefinition[] = anvilCrdDefinitions.map(buildCrd);
