// iPXE scripts for a host: the installer while an install is wanted, local disk once it is done.

export interface InstallScriptInput {
  hostRef: string;
  revision: number;
  attempt: number;
  kernelURL: string;
  initrdURL: string;
  kernelArgs: string;
}

export class IpxeScriptError extends Error {}

/**
 * iPXE expands ${...} in every script line and has no escape for it, and a line break would start a new command:
 * values containing either are refused rather than silently changed.
 */
function ipxeSafe(s: string, what = 'value'): string {
  if (s.includes('${')) throw new IpxeScriptError(`${what} must not contain "\${" (iPXE would expand it): ${s.slice(0, 80)}`);
  if (/[\r\n]/.test(s)) throw new IpxeScriptError(`${what} must not contain line breaks`);
  return s;
}

export function installScript(i: InstallScriptInput): string {
  return [
    '#!ipxe',
    `# anvil: install ${i.hostRef}, revision ${i.revision}, attempt ${i.attempt}`,
    `echo anvil: installing ${i.hostRef} (revision ${i.revision}, attempt ${i.attempt})`,
    `kernel ${ipxeSafe(i.kernelURL, 'kernel URL')} initrd=initrd ${ipxeSafe(i.kernelArgs, 'kernel args')}`,
    `initrd --name initrd ${ipxeSafe(i.initrdURL, 'initrd URL')}`,
    'boot',
    '',
  ].join('\n');
}

/**
 * Boots from the local disk. UEFI firmware moves on to the next boot entry when iPXE exits; legacy BIOS
 * does not reliably, so there iPXE boots the first disk itself.
 */
export function localBootScript(hostRef: string, bootMode: 'UEFI' | 'legacy', reason: string): string {
  return [
    '#!ipxe',
    `# anvil: ${hostRef}: ${reason}`,
    `echo anvil: ${hostRef}: ${ipxeSafe(reason, 'reason')}; booting from local disk`,
    bootMode === 'legacy' ? 'sanboot --no-describe --drive 0x80 || exit' : 'exit',
    '',
  ].join('\n');
}
