// The final kernel command line of the installer.
//
// anvil always adds `autoinstall` (start the install without asking) and `ds=nocloud-net;s=<seed URL>/` (where
// cloud-init in the installer fetches user-data and meta-data), and `url=<ISO URL>` when the boot recipe has an ISO and
// the template does not pass url= itself. They go before a `---` separator when there is one: what follows `---` is
// copied to the installed system's kernel command line, where the seed would make cloud-init reach for the installer
// configuration on every boot.
//
// The result is one line of space-separated arguments, raw and unquoted. It is not safe to paste into a boot script
// as is: GRUB ends a command at the `;` of ds=, and iPXE expands `${...}` and splits at spaces. Whoever writes the
// iPXE (or GRUB) script quotes or escapes each argument for that language, e.g. `ds=nocloud-net\;s=http://.../` in
// GRUB; this module does not, so that the same value serves every writer.
import { RenderError } from './errors.js';

/** Linux' COMMAND_LINE_SIZE on x86 and arm64. */
export const MAX_KERNEL_CMDLINE = 2048;

export interface KernelArgsOptions {
  /** NoCloud seed URL of the host (a trailing slash is added when missing). */
  seedURL: string;
  /** URL of the installer ISO as served by the boot-server, when the boot recipe has one. */
  isoURL?: string;
}

/**
 * Completes the rendered kernel arguments. Throws a RenderError of kind 'validation' when they contain control
 * characters, set their own `ds=` (anvil's seed is the only one that works), or exceed MAX_KERNEL_CMDLINE.
 */
export function finalizeKernelArgs(rendered: string | undefined, options: KernelArgsOptions): string {
  const fail = (message: string): never => {
    throw new RenderError('validation', [{ field: 'kernelArgs', message }]);
  };
  const text = (rendered ?? '').replace(/[\t\r\n]+/g, ' ');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) fail('kernel arguments must not contain control characters');
  const args = text.split(' ').filter((a) => a !== '');
  const separator = args.indexOf('---');
  const installer = separator < 0 ? args : args.slice(0, separator);
  const installed = separator < 0 ? [] : args.slice(separator);

  if (installer.some((a) => a.startsWith('ds=')) || installed.some((a) => a.startsWith('ds='))) {
    fail('kernel arguments must not set ds=: anvil adds the host\'s own NoCloud seed (ds=nocloud-net;s=<seed URL>/)');
  }
  const seed = options.seedURL.endsWith('/') ? options.seedURL : `${options.seedURL}/`;
  const added: string[] = [];
  if (!installer.includes('autoinstall')) added.push('autoinstall');
  added.push(`ds=nocloud-net;s=${seed}`);
  if (options.isoURL !== undefined && !installer.some((a) => a.startsWith('url='))) added.push(`url=${options.isoURL}`);

  const line = [...installer, ...added, ...installed].join(' ');
  if (Buffer.byteLength(line, 'utf8') > MAX_KERNEL_CMDLINE) {
    fail(`the kernel command line is ${Buffer.byteLength(line, 'utf8')} bytes long (at most ${MAX_KERNEL_CMDLINE})`);
  }
  return line;
}
