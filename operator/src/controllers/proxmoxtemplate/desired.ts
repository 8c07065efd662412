// What the spec and upstream ask for right now (image, checksum, settings), and whether a kept version or the build in
// progress already is that.
import type { ProxmoxTemplateBuild, ProxmoxTemplateVersion } from '@anvil/core/api';
import { C, condition, type TemplateContext } from './context.js';
import { settingsHash } from './settings.js';
import { resolveImage, type ResolvedImage } from './source.js';

export interface DesiredBuild extends ResolvedImage {
  settingsHash: string;
}

/** Resolves the image (reading a checksum file when the source has one) and hashes the settings; SourceResolved follows. */
export async function desiredBuild(ctx: TemplateContext): Promise<DesiredBuild> {
  const image = await resolveImage(ctx.template, ctx.ports.fetchText);
  const password = await ctx.ports.cloudInitPassword(ctx.template);
  condition(ctx, { type: C.SourceResolved, status: 'True', reason: 'Resolved', message: `${image.url} (${image.algorithm} ${image.checksum.slice(0, 16)}…)` });
  ctx.status.imageURL = image.url;
  return { ...image, settingsHash: settingsHash(ctx.template, password) };
}

/** A version adopted from an older marker may lack the image URL: the checksum and settings decide then. */
export const versionMatches = (v: ProxmoxTemplateVersion, d: DesiredBuild): boolean =>
  v.checksum === d.checksum && v.settingsHash === d.settingsHash && (v.imageURL === undefined || v.imageURL === d.url);

export const buildMatches = (b: ProxmoxTemplateBuild, d: DesiredBuild): boolean => b.checksum === d.checksum && b.settingsHash === d.settingsHash && b.imageURL === d.url;
