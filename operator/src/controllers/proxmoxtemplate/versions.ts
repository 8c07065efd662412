// The versions list: which kept version is active, versions whose template vanished from the node, and templates on
// the node that carry this object's owner marker (adopted after a lost status or a re-created object).
import type { ProxmoxTemplateVersion } from '@anvil/core/api';
import { deleteOwnedVm } from './cleanup.js';
import type { TemplateContext } from './context.js';
import { namePrefix, ownerKey, parseOwnerMarker, versionName } from './settings.js';

/** activeVersion: the pinned version when it is kept, else the newest; the status fields that describe it follow. */
export function activate(ctx: TemplateContext): void {
  const { status, template } = ctx;
  const versions = status.versions ?? [];
  const pin = template.spec.versions?.pin;
  const newest = versions.at(-1);
  const pinned = pin !== undefined ? versions.find((v) => v.version === pin) : undefined;
  const active = pinned ?? (pin !== undefined ? versions.find((v) => v.version === status.activeVersion) ?? newest : newest);
  if (!active) return;
  if (status.activeVersion !== active.version) {
    if (status.activeVersion !== undefined) ctx.ports.event(template, 'Normal', 'VersionActivated', `version ${active.version} (VMID ${active.vmid}) is now active${pinned ? ' (pinned)' : ''}`);
    status.activeVersion = active.version;
  }
  status.vmid = active.vmid;
  status.templateName = active.name ?? versionName(template, active.version);
  if (active.checksum) status.imageChecksum = active.checksum;
}

/** Forgets versions whose template was removed on the node by someone else. */
export async function dropMissingVersions(ctx: TemplateContext): Promise<void> {
  const versions = ctx.status.versions ?? [];
  if (!versions.length) return;
  const templates = new Set((await ctx.api.listVms()).filter((v) => v.template).map((v) => v.vmid));
  const missing = versions.filter((v) => !templates.has(v.vmid));
  if (!missing.length) return;
  ctx.status.versions = versions.filter((v) => templates.has(v.vmid));
  ctx.ports.event(ctx.template, 'Warning', 'TemplateMissing', `templates of version(s) ${missing.map((v) => `${v.version} (VMID ${v.vmid})`).join(', ')} are gone from node ${ctx.api.node}`);
}

/**
 * Status lost, or the object re-created (GitOps restore): templates on the node that carry this object's owner marker
 * become its versions instead of being built again. Half-built VMs of an earlier object with the same name are removed.
 */
export async function adoptExisting(ctx: TemplateContext): Promise<void> {
  const { template, status } = ctx;
  const owner = ownerKey(template);
  const prefix = `${namePrefix(template)}-v`;
  const adopted: ProxmoxTemplateVersion[] = [];
  for (const vm of await ctx.api.listVms()) {
    if (!vm.name?.startsWith(prefix) || vm.vmid === status.build?.vmid) continue;
    const marker = parseOwnerMarker(await ctx.api.getVmConfig(vm.vmid));
    if (marker?.owner !== owner) continue;
    if (vm.template) {
      adopted.push({
        version: marker.version,
        vmid: vm.vmid,
        name: vm.name,
        ...(marker.checksum ? { checksum: marker.checksum } : {}),
        ...(marker.imageURL ? { imageURL: marker.imageURL } : {}),
        ...(marker.settingsHash ? { settingsHash: marker.settingsHash } : {}),
      });
    } else if (!vm.lock) {
      await deleteOwnedVm(ctx, vm.vmid, (m) => m.owner === owner && m.version === marker.version);
      ctx.ports.event(template, 'Normal', 'LeftoverRemoved', `removed VM ${vm.vmid} (${vm.name}), an unfinished build of an earlier ${owner}`);
    }
  }
  if (!adopted.length) return;
  status.versions = adopted.sort((a, b) => a.version - b.version);
  ctx.ports.event(template, 'Normal', 'Adopted', `adopted existing templates: ${adopted.map((v) => `v${v.version} (VMID ${v.vmid})`).join(', ')}`);
}
