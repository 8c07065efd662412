// TemplateSource over the operator's shared AutoinstallTemplate and ProxmoxTemplate caches (Manager.informer, the
// same informers the template controllers run): reads are from memory, the API server is not asked.
import type { AutoinstallTemplate, ProxmoxTemplate } from '@anvil/core/api';
import type { InformerSet } from '@anvil/core/kube';
import type { TemplateSource } from './ports.js';

export class InformerTemplateSource implements TemplateSource {
  constructor(
    private readonly autoinstall: InformerSet<AutoinstallTemplate>,
    private readonly proxmox: InformerSet<ProxmoxTemplate>,
  ) {}

  listAutoinstallTemplates(): AutoinstallTemplate[] {
    return this.autoinstall.list();
  }

  listProxmoxTemplates(): ProxmoxTemplate[] {
    return this.proxmox.list();
  }
}
