import { RenderError } from './errors.js';
import { finalizeKernelArgs, MAX_KERNEL_CMDLINE } from './kernel-args.js';

const seedURL = 'http://boot.anvil.internal:8080/nocloud/metal/node-01/t0k3n';
const isoURL = 'http://boot.anvil.internal:8080/assets/e3b0c442/ubuntu.iso';

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RenderError);
    expect((err as RenderError).kind).toBe('validation');
    expect((err as RenderError).problems[0]!.field).toBe('kernelArgs');
    return (err as RenderError).problems[0]!.message;
  }
  throw new Error('expected a validation error');
}

describe('finalizeKernelArgs', () => {
  it('appends autoinstall and the NoCloud seed, raw (the ; is for the boot script writer to quote)', () => {
    expect(finalizeKernelArgs('ip=dhcp console=ttyS0,115200', { seedURL })).toBe(
      `ip=dhcp console=ttyS0,115200 autoinstall ds=nocloud-net;s=${seedURL}/`,
    );
    expect(finalizeKernelArgs(undefined, { seedURL: `${seedURL}/` })).toBe(`autoinstall ds=nocloud-net;s=${seedURL}/`);
  });

  it('adds url= for the ISO unless the template passes it', () => {
    expect(finalizeKernelArgs('ip=dhcp', { seedURL, isoURL })).toBe(`ip=dhcp autoinstall ds=nocloud-net;s=${seedURL}/ url=${isoURL}`);
    expect(finalizeKernelArgs(`ip=dhcp url=${isoURL}`, { seedURL, isoURL })).toBe(`ip=dhcp url=${isoURL} autoinstall ds=nocloud-net;s=${seedURL}/`);
  });

  it('puts its arguments before ---, which separates the installed system\'s arguments', () => {
    expect(finalizeKernelArgs('ip=dhcp url=x --- console=ttyS0 quiet', { seedURL, isoURL })).toBe(
      `ip=dhcp url=x autoinstall ds=nocloud-net;s=${seedURL}/ --- console=ttyS0 quiet`,
    );
  });

  it('does not repeat autoinstall and folds lines and runs of spaces', () => {
    expect(finalizeKernelArgs('  autoinstall\n  ip=dhcp\t\tquiet \r\n', { seedURL })).toBe(`autoinstall ip=dhcp quiet ds=nocloud-net;s=${seedURL}/`);
  });

  it('refuses a ds= of the template, control characters and an overlong command line', () => {
    expect(failure(() => finalizeKernelArgs('ds=nocloud;s=/cdrom/', { seedURL }))).toMatch(/^kernel arguments must not set ds=/);
    expect(failure(() => finalizeKernelArgs('a\u0000b', { seedURL }))).toBe('kernel arguments must not contain control characters');
    expect(failure(() => finalizeKernelArgs('x'.repeat(MAX_KERNEL_CMDLINE), { seedURL }))).toMatch(/^the kernel command line is \d+ bytes long \(at most 2048\)$/);
  });
});
