import { fromSecret, macDashed, newToken, normalizeMac, sha256Hex, toSecret, tokenMatches, type BootConfig } from './boot-config.js';
import { installScript, localBootScript } from './ipxe.js';

describe('boot config', () => {
  const config: BootConfig = {
    mode: 'install',
    hostName: 'node-01',
    hostNamespace: 'lab',
    hostUID: 'uid-1',
    mac: '52:54:00:AB:CD:01',
    ipxe: '#!ipxe\nboot\n',
    install: {
      installationId: 'id-1',
      revision: 2,
      attempt: 1,
      token: 'tok',
      tokenSha256: sha256Hex('tok'),
      userData: '#cloud-config\nautoinstall:\n  version: 1\n',
      metaData: 'instance-id: x\n',
      kernel: { url: 'http://b/k', sha256: 'a'.repeat(64) },
      initrd: { url: 'http://b/i', sha256: 'b'.repeat(64) },
    },
  };

  it('round-trips through a labelled Secret', () => {
    const secret = toSecret(config, 'lab');
    expect(secret.metadata.labels).toEqual({ 'anvil.dev/boot-config': 'true', 'anvil.dev/host': 'node-01', 'anvil.dev/mac': '52-54-00-ab-cd-01' });
    expect(fromSecret(secret)).toEqual({ ...config, mac: '52:54:00:ab:cd:01' });
    expect(fromSecret({ metadata: {}, data: {} })).toBeUndefined();
    // the managed DHCP's reservation travels with it
    expect(fromSecret(toSecret({ ...config, reservedAddress: '10.20.0.20' }, 'lab'))?.reservedAddress).toBe('10.20.0.20');
    expect(fromSecret(secret)).not.toHaveProperty('reservedAddress');
  });

  it('checks tokens by hash', () => {
    const t = newToken();
    expect(tokenMatches(t, sha256Hex(t))).toBe(true);
    expect(tokenMatches(`${t}x`, sha256Hex(t))).toBe(false);
    expect(tokenMatches(t, 'short')).toBe(false);
  });

  it('normalizes MACs', () => {
    expect(normalizeMac('52-54-00-AB-cd-01')).toBe('52:54:00:ab:cd:01');
    expect(macDashed('52:54:00:AB:CD:01')).toBe('52-54-00-ab-cd-01');
  });

  it('writes iPXE scripts that cannot be broken by their inputs', () => {
    const base = { hostRef: 'lab/node-01', revision: 1, attempt: 2, kernelURL: 'http://b/k', initrdURL: 'http://b/i' };
    const s = installScript({ ...base, kernelArgs: 'autoinstall ds=nocloud-net;s=http://b/s/' });
    expect(s.startsWith('#!ipxe\n')).toBe(true);
    expect(s).toContain('kernel http://b/k initrd=initrd autoinstall ds=nocloud-net;s=http://b/s/\n');
    expect(() => installScript({ ...base, kernelArgs: 'x=${evil}' })).toThrow(/kernel args must not contain "\$\{"/);
    expect(() => installScript({ ...base, kernelArgs: 'a\nchain http://evil' })).toThrow(/line breaks/);
    expect(localBootScript('lab/n', 'UEFI', 'provisioned')).toMatch(/\nexit\n$/);
    expect(localBootScript('lab/n', 'legacy', 'provisioned')).toContain('sanboot --no-describe --drive 0x80');
  });
});

describe('kernel args', () => {
  it('refuses what would break the command line, with a message naming the problem', async () => {
    const { checkKernelArgs } = await import('./ipxe.js');
    expect(() => checkKernelArgs('autoinstall "ds=nocloud-net;s=http://x/')).toThrow(/unbalanced double quote/);
    expect(() => checkKernelArgs('quiet\tsplash')).toThrow(/control characters \(found U\+0009/);
    expect(() => checkKernelArgs('a'.repeat(2000))).toThrow(/2000 bytes long/);
    expect(checkKernelArgs('console=ttyS0 "foo=a b" ip=dhcp')).toBe('console=ttyS0 "foo=a b" ip=dhcp');
  });
});
