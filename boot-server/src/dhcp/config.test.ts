import { ConfigError, loadConfig, type BootServerConfig } from '../config.js';

const load = (argv: string[], env: NodeJS.ProcessEnv = {}): BootServerConfig => {
  const c = loadConfig(argv, env);
  if (c === 'help') throw new Error('help');
  return c;
};
const problemsOf = (argv: string[], env: NodeJS.ProcessEnv = {}): string[] => {
  try {
    loadConfig(argv, env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('accepted');
};

describe('proxyDHCP configuration', () => {
  it('is off by default', () => {
    expect(load([]).proxyDhcp).toBeUndefined();
  });

  it('takes the advertised address from --public-url when it is an IPv4 address, with the documented defaults', () => {
    expect(load(['--proxy-dhcp', 'true', '--public-url', 'http://10.20.0.2:8080']).proxyDhcp).toEqual({
      host: '0.0.0.0',
      dhcpPort: 67,
      pxePort: 4011,
      clientPort: 68,
      broadcastAddress: '255.255.255.255',
      serverAddress: '10.20.0.2',
      answerUnknown: false,
      bootFiles: { bios: 'undionly.kpxe', uefiX64: 'snponly.efi', arm64: undefined, httpBootURL: undefined },
    });
  });

  it('takes every setting from flags or the environment', () => {
    const c = load(['--proxy-dhcp=true', '--proxy-dhcp-address', '10.9.0.1', '--proxy-dhcp-machines', 'all', '--proxy-dhcp-arm64-file', 'arm64/snponly.efi'], {
      PROXY_DHCP_PORT: '1067',
      PROXY_DHCP_PXE_PORT: '14011',
      PROXY_DHCP_HTTP_BOOT_URL: 'http://10.9.0.1:8080/snponly.efi',
      PROXY_DHCP_UEFI_FILE: 'ipxe.efi',
    });
    expect(c.proxyDhcp).toMatchObject({ serverAddress: '10.9.0.1', dhcpPort: 1067, pxePort: 14011, answerUnknown: true, bootFiles: { uefiX64: 'ipxe.efi', arm64: 'arm64/snponly.efi', httpBootURL: 'http://10.9.0.1:8080/snponly.efi' } });
  });

  it('answers every PXE client with --discovery create: an unknown machine must boot to be discovered', () => {
    expect(load(['--proxy-dhcp', 'true', '--public-url', 'http://10.20.0.2:8080', '--discovery', 'create']).proxyDhcp?.answerUnknown).toBe(true);
    expect(load(['--proxy-dhcp', 'true', '--public-url', 'http://10.20.0.2:8080', '--discovery', 'record']).proxyDhcp?.answerUnknown).toBe(false);
  });

  it('hands out addresses only when a pool is given, with the proxyDHCP, in its subnet', () => {
    const base = ['--proxy-dhcp', 'true', '--public-url', 'http://10.20.0.2:8080'];
    expect(load(base).proxyDhcp?.managed).toBeUndefined();
    expect(load([...base, '--managed-dhcp-pool', '10.20.0.100-10.20.0.199', '--managed-dhcp-router', '10.20.0.1', '--managed-dhcp-dns', '10.20.0.1,9.9.9.9']).proxyDhcp?.managed).toEqual({
      pool: { start: 169082980, end: 169083079 },
      netmask: '255.255.255.0',
      router: '10.20.0.1',
      dns: ['10.20.0.1', '9.9.9.9'],
      leaseSeconds: 3600,
    });
    expect(problemsOf(['--managed-dhcp-pool', '10.20.0.100-10.20.0.199'])).toEqual([expect.stringMatching(/^managed-dhcp-pool needs --proxy-dhcp true/)]);
    expect(problemsOf([...base, '--managed-dhcp-pool', '10.30.0.100-10.30.0.199'])).toEqual(['managed-dhcp-pool 10.30.0.100-10.30.0.199 is not in the subnet of 10.20.0.2/255.255.255.0']);
    expect(problemsOf([...base, '--managed-dhcp-pool', '10.20.0.199-10.20.0.100'])).toEqual([expect.stringMatching(/after its last/)]);
  });

  it('says what is wrong, all at once', () => {
    expect(problemsOf(['--proxy-dhcp', 'true'])).toEqual([expect.stringMatching(/^proxy-dhcp needs --proxy-dhcp-address/)]);
    expect(problemsOf(['--proxy-dhcp', 'true', '--public-url', 'http://boot.example:8080'])).toEqual([expect.stringMatching(/^proxy-dhcp needs --proxy-dhcp-address/)]);
    expect(problemsOf(['--proxy-dhcp', 'yes please', '--proxy-dhcp-address', '10.0.0', '--proxy-dhcp-machines', 'some', '--proxy-dhcp-http-boot-url', 'tftp://x/y', '--proxy-dhcp-uefi-file', 'a b'])).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/proxy-dhcp must be/),
        'proxy-dhcp-address must be an IPv4 address, got "10.0.0"',
        'proxy-dhcp-machines must be known or all, got "some"',
        'proxy-dhcp-http-boot-url must be an http(s) URL, got "tftp://x/y"',
        'proxy-dhcp-uefi-file must be a file name of 1 to 127 printable ASCII characters, got "a b"',
      ]),
    );
  });
});
