// anvil's resource types, written out rather than imported from shared/src/api: loading the API's schemas costs more
// startup time than a whole CLI command should take. resources.test.ts keeps these equal to the API's constants.
import type { ResourceType } from '@anvil/core/kube';

export const BareMetalHostResource: ResourceType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'BareMetalHost', plural: 'baremetalhosts', namespaced: true };
export const AutoinstallTemplateResource: ResourceType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'AutoinstallTemplate', plural: 'autoinstalltemplates', namespaced: true };

/** The annotation that pauses reconciliation of a host (PAUSED_ANNOTATION in shared/src/api). */
export const PAUSED_ANNOTATION = 'anvil.dev/paused';

/** apps/v1 ControllerRevision: the immutable copies of a template's revisions (operator/src/controllers/autoinstalltemplate/revisions.ts). */
export const ControllerRevisionResource: ResourceType = { group: 'apps', version: 'v1', kind: 'ControllerRevision', plural: 'controllerrevisions', namespaced: true };
