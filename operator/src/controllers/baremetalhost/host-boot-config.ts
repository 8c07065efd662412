// The boot config a host is given: the installer for its current attempt, or "boot from disk", with the credentials
// of the attempt that just finished kept for its late installer events.
import { assetURL, normalizeMac, sha256Hex, type BootConfig, type ClosedInstall, installScript, localBootScript } from '@anvil/core/bootconfig';
import { hostRef, type HostContext } from './host-context.js';
import type { RenderedHost } from './ports.js';

/** The installer config when rendered, token and attempt are given; otherwise a local boot (saying why). */
export function bootConfigFor(ctx: HostContext, rendered: RenderedHost | undefined, token: string | undefined, reason: string): BootConfig {
  const { host } = ctx;
  const base = {
    hostName: host.metadata.name!,
    hostNamespace: host.metadata.namespace!,
    hostUID: host.metadata.uid ?? '',
    mac: normalizeMac(host.spec.bootMACAddress),
    ...(host.spec.bootIPAddress ? { reservedAddress: host.spec.bootIPAddress } : {}),
  };
  const closed = closedInstallToKeep(ctx);
  const ci = ctx.status.currentInstall;
  if (!rendered || !token || !ci) return { ...base, mode: 'local', ipxe: localBootScript(hostRef(host), host.spec.bootMode ?? 'UEFI', reason), ...(closed ? { closedInstall: closed } : {}) };
  const { bootServerURL } = ctx.ports.urls(host, token);
  const asset = (a: { url: string; sha256: string }): string => assetURL(bootServerURL, a);
  return {
    ...base,
    mode: 'install',
    ipxe: installScript({ hostRef: hostRef(host), revision: ci.revision, attempt: ci.attempt, kernelURL: asset(rendered.boot.kernel), initrdURL: asset(rendered.boot.initrd), kernelArgs: rendered.kernelArgs }),
    install: {
      installationId: ci.installationId!,
      revision: ci.revision,
      attempt: ci.attempt,
      token,
      tokenSha256: sha256Hex(token),
      ...(rendered.installer !== undefined ? { installer: rendered.installer } : {}),
      userData: rendered.userData,
      metaData: rendered.metaData,
      ...(rendered.networkConfig !== undefined ? { networkConfig: rendered.networkConfig } : {}),
      ...(rendered.vendorData !== undefined ? { vendorData: rendered.vendorData } : {}),
      ...(rendered.ignition !== undefined ? { ignition: rendered.ignition } : {}),
      ...(rendered.preseed !== undefined ? { preseed: rendered.preseed } : {}),
      kernel: rendered.boot.kernel,
      initrd: rendered.boot.initrd,
      ...(rendered.boot.iso ? { iso: rendered.boot.iso } : {}),
      template: { name: rendered.templateChain.at(-1) ?? host.spec.templateRef?.name ?? '', contentHash: rendered.contentHash },
      ...(rendered.inputsHash !== undefined ? { inputsHash: rendered.inputsHash } : {}),
    },
    ...(closed ? { closedInstall: closed } : {}),
  };
}

/**
 * The attempt whose verdict was processed last keeps taking installer events for a while (late-commands, crash
 * reports): its token's hash stays in the boot config until the machine boots again. The boot-server also bounds it
 * in time (--event-grace-seconds).
 */
export function closedInstallToKeep(ctx: HostContext): ClosedInstall | undefined {
  const published = ctx.ports.publishedBootConfig(ctx.host);
  const ci = ctx.status.currentInstall;
  let closed = published?.closedInstall;
  // The verdict of the published install was just processed: close it now.
  if (ci?.result && published?.mode === 'install' && published.install?.installationId === ci.installationId) {
    const i = published.install!;
    closed = { installationId: i.installationId, revision: i.revision, attempt: i.attempt, tokenSha256: i.tokenSha256, ...(i.template ? { template: i.template } : {}), closedAt: ctx.now.toISOString() };
  }
  if (!closed) return undefined;
  // Milliseconds on both sides: a boot request and the verdict of a quick install often fall within one second.
  const boot = ctx.status.lastBootRequest;
  if (boot && Date.parse(boot.time) > Date.parse(closed.closedAt)) return undefined;
  return closed;
}
