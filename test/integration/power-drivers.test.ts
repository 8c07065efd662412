// The power drivers against real counterparts: ipmitool against OpenIPMI's ipmi_sim, the Redfish driver against the
// Redfish simulator (HTTP and HTTPS, sessions and basic auth), Wake-on-LAN against a UDP listener.
import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPowerDriver } from '@anvil/operator/src/power/registry.js';
import { PowerError, type DriverOptions, type PowerDriver } from '@anvil/operator/src/power/driver.js';
import { reboot } from '@anvil/operator/src/power/reboot.js';
import { RedfishSim } from '../redfish-sim/server.js';
import { ipmiSimAvailable, startIpmiSim, type IpmiSim } from '../harness/ipmi-sim.js';
import { ProxmoxSimulator, pveReferenceAvailable } from '../proxmox-sim/index.js';

jest.setTimeout(60_000);

const base: Omit<DriverOptions, 'address' | 'credentials'> = { insecureTLS: false, bootMAC: '52:54:00:12:34:56', bootMode: 'UEFI', timeoutMs: 5_000 };

async function expectPowerError(p: Promise<unknown>, kind: PowerError['kind'], message: RegExp): Promise<PowerError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PowerError);
  expect((err as PowerError).kind).toBe(kind);
  expect((err as PowerError).message).toMatch(message);
  return err as PowerError;
}

const ipmiMissing = ipmiSimAvailable();
const describeIpmi = ipmiMissing ? describe.skip : describe;
if (ipmiMissing) console.warn(`skipping IPMI driver tests: ${ipmiMissing}`);

describeIpmi('IPMI driver against ipmi_sim', () => {
  let sim: IpmiSim;
  const drivers: PowerDriver[] = [];
  const ipmi = (password = 's3cret!', extra = ''): PowerDriver => {
    const d = createPowerDriver({ ...base, address: `ipmi://127.0.0.1:${sim.port}${extra}`, credentials: { username: 'anvil', password } });
    drivers.push(d);
    return d;
  };

  beforeAll(async () => {
    sim = await startIpmiSim({ username: 'anvil', password: 's3cret!' });
  });
  afterAll(async () => {
    await Promise.all(drivers.map((d) => d.close()));
    await sim?.stop();
  });

  it('reads the power state, powers on and off, sets PXE for the next boot only, and resets', async () => {
    const d = ipmi();
    await d.validate();
    expect(await d.powerState()).toBe('Off');
    await d.setNextBootNetwork();
    await d.powerOn();
    expect(await d.powerState()).toBe('On');
    expect(sim.power()).toBe('on');
    await d.reset('Hard');
    expect(sim.boots()).toEqual(['pxe', 'default']);
    expect(sim.calls()).toContain('set boot pxe');
    await d.powerOff('Hard');
    expect(await d.powerState()).toBe('Off');
  });

  it('soft reboot: ACPI shutdown then power on; power is cut when the OS ignores ACPI', async () => {
    const d = ipmi();
    await d.powerOn();
    const before = sim.boots().length;
    expect(await reboot(d, 'Soft', { softTimeoutMs: 5_000, pollMs: 100 })).toBe('power-cycled');
    expect(sim.calls()).toContain('set shutdown 1');
    expect(sim.boots().length).toBe(before + 1);

    sim.setHonoursAcpi(false);
    const calls = sim.calls().length;
    expect(await reboot(d, 'Soft', { softTimeoutMs: 300, pollMs: 100 })).toBe('power-cycled');
    const after = sim.calls().slice(calls);
    expect(after).toContain('set shutdown 1');
    expect(after).toContain('set power 0');
    expect(await d.powerState()).toBe('On');
    sim.setHonoursAcpi(true);
  });

  it('keeps the password off the command line', async () => {
    const seen: string[][] = [];
    const d = createPowerDriver(
      { ...base, address: `ipmi://127.0.0.1:${sim.port}`, credentials: { username: 'anvil', password: 's3cret!' } },
      {
        runCommand: async (cmd, args, opts) => {
          seen.push([cmd, ...args, JSON.stringify(opts.env)]);
          const r = spawnSync(cmd, args, { env: opts.env, timeout: opts.timeoutMs });
          return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString(), timedOut: false };
        },
      },
    );
    expect(await d.powerState()).toMatch(/On|Off/);
    expect(seen[0]!.slice(0, -1).join(' ')).not.toContain('s3cret!');
    expect(seen[0]).toContain('-E');
    expect(seen[0]!.at(-1)).toContain('"IPMI_PASSWORD":"s3cret!"');
  });

  it('tells a wrong password, an unknown user, an unsupported cipher suite and an unreachable BMC apart', async () => {
    await expectPowerError(ipmi('wrong').powerState(), 'Unauthorized', /refused the password of user "anvil"/);
    const nobody = createPowerDriver({ ...base, address: `ipmi://127.0.0.1:${sim.port}`, credentials: { username: 'nobody', password: 'x' } });
    await expectPowerError(nobody.powerState(), 'Unauthorized', /does not know user "nobody"/);
    await expectPowerError(ipmi('s3cret!', '?cipherSuite=17').powerState(), 'Unsupported', /cipher suite 17/);
    const closed = createPowerDriver({ ...base, timeoutMs: 4_000, address: 'ipmi://127.0.0.1:9', credentials: { username: 'anvil', password: 'x' } });
    await expectPowerError(closed.powerState(), 'Unreachable', /does not answer/);
    const slow = createPowerDriver({ ...base, timeoutMs: 1_000, address: 'ipmi://127.0.0.1:9', credentials: { username: 'anvil', password: 'x' } });
    await expectPowerError(slow.powerState(), 'Timeout', /within 1 s/);
  });
});

describe('Redfish driver against the Redfish simulator', () => {
  let sim: RedfishSim;
  const drivers: PowerDriver[] = [];
  const redfish = (address: string, credentials = { username: 'admin', password: 'secret' }, extra: Partial<DriverOptions> = {}): PowerDriver => {
    const d = createPowerDriver({ ...base, address, credentials, ...extra });
    drivers.push(d);
    return d;
  };
  const hostPort = (s: RedfishSim): string => `127.0.0.1:${s.port}`;

  beforeAll(async () => {
    sim = new RedfishSim({ systemIds: ['1', '2'] });
    await sim.start();
  });
  afterAll(async () => {
    await Promise.all(drivers.map((d) => d.close()));
    await sim?.stop();
  });

  it('logs in with a session, powers on with a one-time PXE override, resets, powers off', async () => {
    const d = redfish(`redfish+http://${hostPort(sim)}/redfish/v1/Systems/1`);
    expect(await d.powerState()).toBe('Off');
    await d.setNextBootNetwork();
    expect(sim.system('1').boot).toMatchObject({ BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once', BootSourceOverrideMode: 'UEFI' });
    await d.powerOn();
    expect(await d.powerState()).toBe('On');
    await d.reset('Hard');
    expect(sim.system('1').boots).toEqual(['Pxe', 'Hdd']);
    expect(sim.system('1').resets).toEqual(['On', 'ForceRestart']);
    await d.reset('Soft');
    expect(sim.system('1').resets.at(-1)).toBe('GracefulRestart');
    await d.powerOff('Soft');
    expect(sim.system('1').resets.at(-1)).toBe('GracefulShutdown');
    expect(await d.powerState()).toBe('Off');
    const used = sim.requests.filter((r) => r.path.startsWith('/redfish/v1/Systems'));
    expect(used.every((r) => r.auth === 'session')).toBe(true);
    expect(sim.requests.filter((r) => r.method === 'POST' && r.path === '/redfish/v1/SessionService/Sessions')).toHaveLength(1);
    await d.close();
    expect(sim.sessions.size).toBe(0);
  });

  it('uses only reset types the system allows', async () => {
    sim.allowedResetTypes = ['PushPowerButton', 'PowerCycle'];
    try {
      const d = redfish(`redfish+http://${hostPort(sim)}/redfish/v1/Systems/2`);
      await d.powerOn();
      await d.reset('Hard');
      expect(sim.system('2').resets).toEqual(['PushPowerButton', 'PowerCycle']);
      await expectPowerError(d.powerOff('Hard'), 'Unsupported', /allows ResetType PushPowerButton, PowerCycle, none of ForceOff/);
    } finally {
      sim.allowedResetTypes = ['On', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'PushPowerButton'];
    }
  });

  it('renews an expired session, falls back to basic auth, and reports wrong credentials', async () => {
    const d = redfish(`redfish+http://${hostPort(sim)}/redfish/v1/Systems/1`);
    await d.powerState();
    sim.sessions.clear();
    await d.powerState();
    expect(sim.requests.filter((r) => r.path === '/redfish/v1/SessionService/Sessions').length).toBeGreaterThanOrEqual(2);

    const basic = redfish(`redfish+http://${hostPort(sim)}/redfish/v1/Systems/1?auth=basic`);
    const from = sim.requests.length;
    await basic.powerState();
    expect(sim.requests.slice(from).map((r) => r.auth)).toEqual(['basic']);

    await expectPowerError(redfish(`redfish+http://${hostPort(sim)}/redfish/v1/Systems/1`, { username: 'admin', password: 'nope' }).powerState(), 'Unauthorized', /refused the credentials of user "admin" \(session login\)/);
    await expectPowerError(redfish(`redfish+http://${hostPort(sim)}/redfish/v1/Systems/1?auth=basic`, { username: 'admin', password: 'nope' }).powerState(), 'Unauthorized', /basic auth/);
  });

  it('falls back to basic auth when the service has no sessions, and finds the only system itself', async () => {
    const plain = new RedfishSim({ sessions: false });
    await plain.start();
    try {
      const d = redfish(`redfish+http://${hostPort(plain)}`);
      expect(await d.powerState()).toBe('Off');
      expect(plain.requests.filter((r) => r.path.startsWith('/redfish/v1/Systems')).every((r) => r.auth === 'basic')).toBe(true);
      await expectPowerError(redfish(`redfish+http://${hostPort(sim)}`).powerState(), 'InvalidConfig', /manages 2 systems/);
      await expectPowerError(redfish(`redfish+http://${hostPort(sim)}/redfish/v1/Systems/9`).powerState(), 'InvalidConfig', /no system at \/redfish\/v1\/Systems\/9/);
    } finally {
      await plain.stop();
    }
  });

  it('reports a slow BMC as a timeout and a closed port as unreachable', async () => {
    const slow = new RedfishSim({ delayMs: 1_500 });
    await slow.start();
    try {
      await expectPowerError(redfish(`redfish+http://${hostPort(slow)}/redfish/v1/Systems/1`, undefined, { timeoutMs: 500 }).powerState(), 'Timeout', /did not answer/);
    } finally {
      await slow.stop();
    }
    await expectPowerError(redfish('redfish+http://127.0.0.1:9/redfish/v1/Systems/1').powerState(), 'Unreachable', /refuses connections/);
  });

  it('verifies TLS certificates unless told not to', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anvil-redfish-tls-'));
    let key: string;
    let cert: string;
    try {
      const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=bmc.test', '-addext', 'subjectAltName=IP:127.0.0.1']);
      expect(r.status).toBe(0);
      [key, cert] = [readFileSync(join(dir, 'key.pem'), 'utf8'), readFileSync(join(dir, 'cert.pem'), 'utf8')];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const tls = new RedfishSim({ tls: { key, cert } });
    await tls.start();
    try {
      const err = await expectPowerError(redfish(`redfish://${hostPort(tls)}/redfish/v1/Systems/1`).powerState(), 'Unreachable', /certificate not trusted.*disableCertificateVerification/);
      expect(err.reason).toBe('CertificateNotTrusted');
      expect(await redfish(`redfish://${hostPort(tls)}/redfish/v1/Systems/1`, undefined, { insecureTLS: true }).powerState()).toBe('Off');
    } finally {
      await tls.stop();
    }
  });
});

describe('Wake-on-LAN driver', () => {
  it('sends 6 x 0xFF and 16 x the boot MAC to the broadcast address and port', async () => {
    const listener = createSocket('udp4');
    await new Promise<void>((resolve) => listener.bind(0, '127.0.0.1', resolve));
    const received = new Promise<Buffer>((resolve) => listener.once('message', (msg) => resolve(msg)));
    try {
      const d = createPowerDriver({ ...base, bootMAC: '52:54:00:AB:cd:0F', address: `wol://127.0.0.1:${listener.address().port}`, credentials: {} });
      expect(d.capabilities.readPowerState).toBe(false);
      expect(await d.powerState()).toBe('Unknown');
      await d.powerOn();
      const packet = await received;
      expect(packet).toHaveLength(102);
      expect(packet.subarray(0, 6)).toEqual(Buffer.alloc(6, 0xff));
      const mac = Buffer.from([0x52, 0x54, 0x00, 0xab, 0xcd, 0x0f]);
      for (let i = 0; i < 16; i++) expect(packet.subarray(6 + i * 6, 12 + i * 6)).toEqual(mac);
      await expectPowerError(d.powerOff('Hard'), 'Unsupported', /only power a machine on/);
    } finally {
      listener.close();
    }
  });
});

const describeProxmox = pveReferenceAvailable() ? describe : describe.skip;
if (!pveReferenceAvailable()) console.warn('skipping the Proxmox power driver test: ../shared/reference/proxmox (the PVE API schema the simulator follows) is absent');

describeProxmox('Proxmox driver against the Proxmox simulator', () => {
  let sim: ProxmoxSimulator;
  beforeAll(async () => {
    sim = new ProxmoxSimulator({ node: 'pve1' });
    await sim.start();
    sim.createForeignVm(150);
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('reads status/current, starts, resets, shuts down and stops the VM', async () => {
    const d = createPowerDriver({ ...base, address: 'proxmox://pve1/150', credentials: { url: sim.url, token: sim.token() } });
    try {
      expect(d.capabilities.bootOnce).toBe(false);
      expect(await d.powerState()).toBe('Off');
      await d.powerOn();
      expect(await d.powerState()).toBe('On');
      await d.reset('Hard');
      await d.powerOff('Soft');
      expect(await d.powerState()).toBe('Off');
      await d.powerOn();
      await d.powerOff('Hard');
      expect(await d.powerState()).toBe('Off');
      const paths = sim.requests.filter((r) => r.method === 'POST').map((r) => r.path);
      expect(paths).toEqual(['start', 'reset', 'shutdown', 'start', 'stop'].map((a) => `/nodes/pve1/qemu/150/status/${a}`));
      expect(sim.invalidRequests()).toEqual([]);
    } finally {
      await d.close();
    }
  });

  it('reports a wrong token, a missing VM and a refused action clearly', async () => {
    const wrong = createPowerDriver({ ...base, address: 'proxmox://pve1/150', credentials: { url: sim.url, token: 'anvil@pve!builder=00000000-0000-0000-0000-000000000000' } });
    await expectPowerError(wrong.powerState(), 'Unauthorized', /token was refused/);
    const missing = createPowerDriver({ ...base, address: 'proxmox://pve1/999', credentials: { url: sim.url, token: sim.token() } });
    const err = await expectPowerError(missing.powerState(), 'InvalidConfig', /VM 999 on node pve1 does not exist/);
    expect(err.reason).toBe('VMNotFound');
    const d = createPowerDriver({ ...base, address: 'proxmox://pve1/150', credentials: { url: sim.url, token: sim.token() } });
    await expectPowerError(d.reset('Hard'), 'Protocol', /not running/);
    await expectPowerError(Promise.resolve().then(() => createPowerDriver({ ...base, address: 'proxmox://pve1/150', credentials: { token: sim.token() } })), 'InvalidConfig', /needs "url"/);
    await Promise.all([wrong.close(), missing.close(), d.close()]);
  });
});
