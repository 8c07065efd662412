// The REST resource of each anvil.dev kind: what the KubeClient and the caches need to reach its objects.
import type { ResourceType } from '../kube/types.js';
import { AUTOINSTALLTEMPLATE_KIND, AUTOINSTALLTEMPLATE_PLURAL, BAREMETALHOST_KIND, BAREMETALHOST_PLURAL, GROUP, PROXMOXTEMPLATE_KIND, PROXMOXTEMPLATE_PLURAL, VERSION } from './v1alpha1/index.js';

export const AnvilResources = {
  bareMetalHost: { group: GROUP, version: VERSION, kind: BAREMETALHOST_KIND, plural: BAREMETALHOST_PLURAL, namespaced: true },
  autoinstallTemplate: { group: GROUP, version: VERSION, kind: AUTOINSTALLTEMPLATE_KIND, plural: AUTOINSTALLTEMPLATE_PLURAL, namespaced: true },
  proxmoxTemplate: { group: GROUP, version: VERSION, kind: PROXMOXTEMPLATE_KIND, plural: PROXMOXTEMPLATE_PLURAL, namespaced: true },
} as const satisfies Record<string, ResourceType>;
