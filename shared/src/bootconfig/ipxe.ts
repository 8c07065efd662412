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
 * The start of a value for an error message, which goes to the host's status and events: kernel args carry the
 * NoCloud seed (or Ignition config, or preseed) URL anvil adds, whose install token must not go with them.
 */
const quoted = (s: string, max: number): string => s.replace(/(\/(?:nocloud|ignition|preseed)\/[^/\s"]*\/)[^/\s"]+/gi, '$1REDACTED').slice(0, max);

/**
 * iPXE expands ${...} in every script line and has no escape for it, and a line break would start a new command:
 * values containing either are refused rather than silently changed.
 */
function ipxeSafe(s: string, what = 'value'): string {
  if (s.includes('${')) throw new IpxeScriptError(`${what} must not contain "\${" (iPXE would expand it): ${quoted(s, 80)}`);
  if (/[\r\n]/.test(s)) throw new IpxeScriptError(`${what} must not contain line breaks`);
  return s;
}

/** Linux's x86 COMMAND_LINE_SIZE is 2048 bytes including what anvil adds (initrd=, the seed URL). */
export const MAX_KERNEL_ARGS_BYTES = 1900;

/**
 * The kernel command line as the kernel parses it: words separated by spaces, double quotes group a value with
 * spaces. An unbalanced quote swallows everything after it (the seed URL too), control characters break the iPXE line.
 */
export function checkKernelArgs(args: string): string {
  if (/[\r\n]/.test(args)) throw new IpxeScriptError('kernel args must not contain line breaks');
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u001f\u007f]/.exec(args);
  if (control) throw new IpxeScriptError(`kernel args must not contain control characters (found U+${control[0].charCodeAt(0).toString(16).padStart(4, '0')} at position ${control.index})`);
  if ((args.match(/"/g)?.length ?? 0) % 2 === 1) throw new IpxeScriptError(`kernel args have an unbalanced double quote: ${quoted(args, 120)}`);
  const bytes = Buffer.byteLength(args);
  if (bytes > MAX_KERNEL_ARGS_BYTES) throw new IpxeScriptError(`kernel args are ${bytes} bytes long; at most ${MAX_KERNEL_ARGS_BYTES} fit on the kernel command line`);
  return ipxeSafe(args, 'kernel args');
}

export function installScript(i: InstallScriptInput): string {
  return [
    '#!ipxe',
    `# anvil: install ${i.hostRef}, revision ${i.revision}, attempt ${i.attempt}`,
    `echo anvil: installing ${i.hostRef} (revision ${i.revision}, attempt ${i.attempt})`,
    `kernel ${ipxeSafe(i.kernelURL, 'kernel URL')} initrd=initrd ${checkKernelArgs(i.kernelArgs)}`,
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
