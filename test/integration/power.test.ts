// The power controller on a real kube-apiserver with several hosts at once: Redfish (simulator) and IPMI (ipmi_sim)
// hosts are power-cycled into PXE exactly once per install attempt, also across an operator restart; reboot
// requests and spec.online are carried out; wrong credentials, a missing Secret and a slow BMC are reported in
// status and retried with backoff while the other hosts carry on.
import { jest } from '@jest/globals';
import { anvilCrds, type BareMetalHost } from '@anvil/core/api';
import { CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import { HostType, postEvent, recordBoot, subiquityEvents } from '../harness/installer-sim.js';
import { ipmiSimAvailable, startIpmiSim, type IpmiSim } from '../harness/ipmi-sim.js';
import { RedfishSim } from '../redfish-sim/server.js';

jest.setTimeout(180_000);

type Host = BareMetalHost & KubeObject;
const TemplateType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'AutoinstallTemplate', plural: 'autoinstalltemplates', namespaced: true };
const ns = 'power';
const HASH = '$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0';
const ipmiMissing = ipmiSimAvailable();
if (ipmiMissing) console.warn(`the IPMI host of the power controller test is skipped: ${ipmiMissing}`);

const userData = `#cloud-config
autoinstall:
  version: 1
  identity:
    hostname: {{ host.hostname | yaml }}
    username: ubuntu
    password: {{ passwordHash | yaml }}
`;

function secret(name: string, data: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, stringData: data };
}

function host(name: string, mac: string, bmc: NonNullable<BareMetalHost['spec']['bmc']>, install: boolean, extra: Partial<BareMetalHost['spec']> = {}): KubeObject {
  return {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name, namespace: ns },
    spec: {
      bootMACAddress: mac,
      bmc,
      ...(install ? { templateRef: { name: 'ubuntu' }, secretRefs: [{ name: 'install-secrets', key: 'password-hash', variable: 'passwordHash' }], provisioning: { revision: 1 } } : {}),
      ...extra,
    },
  };
}

describe('power controller on a real API server', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let manager: Manager;
  let redfish: RedfishSim;
  let slow: RedfishSim;
  let ipmi: IpmiSim | undefined;

  const startOperator = async (): Promise<Manager> => {
    const m = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'test', namespaces: [ns] });
    registerControllers(m, {
      maxConcurrentReconciles: 3,
      log: silentLogger(),
      bootServerURL: 'http://10.0.0.2:8080',
      power: { pollIntervalMs: 1_000, afterActionPollMs: 300, backoffBaseMs: 300, backoffMaxMs: 3_000, softTimeoutMs: 3_000, requestTimeoutMs: 1_500, maxConcurrentOps: 2 },
    });
    await m.start();
    return m;
  };
  const getHost = async (name: string): Promise<Host> => (await client.get<Host>(HostType, { namespace: ns, name }))!;
  const condition = (h: Host, type: string) => h.status?.conditions?.find((c) => c.type === type);
  const waitHost = async (name: string, what: string, ok: (h: Host) => boolean, timeoutMs = 30_000): Promise<Host> => {
    try {
      return await waitFor(`${name}: ${what}`, async () => {
        const h = await getHost(name);
        return ok(h) ? h : undefined;
      }, timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}; status: ${JSON.stringify((await getHost(name)).status)}`);
    }
  };
  const events = async (name: string): Promise<{ reason?: string; note?: string; type?: string }[]> => {
    await manager.recorder.flush();
    const list = await client.list<KubeObject & { reason?: string; note?: string; type?: string; regarding?: { name?: string } }>(CoreResources.event, { namespace: ns });
    return list.items.filter((e) => e.regarding?.name === name);
  };

  beforeAll(async () => {
    redfish = new RedfishSim({ username: 'admin', password: 'secret', systemIds: ['1', '2'] });
    await redfish.start();
    // A BMC that answers, but more slowly than the operator waits (1.5 s here).
    slow = new RedfishSim({ username: 'admin', password: 'secret', delayMs: 4_000 });
    await slow.start();
    if (!ipmiMissing) ipmi = await startIpmiSim({ username: 'anvil', password: 'ipmi-pw' });

    cp = await startControlPlane();
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, ns);
    await client.create(CoreResources.secret, secret('install-secrets', { 'password-hash': HASH }));
    await client.create(CoreResources.secret, secret('redfish-bmc', { username: 'admin', password: 'secret' }));
    await client.create(CoreResources.secret, secret('wrong-bmc', { username: 'admin', password: 'not-it' }));
    await client.create(CoreResources.secret, secret('ipmi-bmc', { username: 'anvil', password: 'ipmi-pw' }));
    await client.create(TemplateType, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'AutoinstallTemplate',
      metadata: { name: 'ubuntu', namespace: ns },
      spec: {
        boot: { kernel: { url: 'http://127.0.0.1:9/vmlinuz', sha256: 'a'.repeat(64) }, initrd: { url: 'http://127.0.0.1:9/initrd', sha256: 'b'.repeat(64) } },
        userData,
      },
    });
    manager = await startOperator();
  });

  afterAll(async () => {
    await manager?.stop();
    await cp?.stop();
    await redfish?.stop();
    await slow?.stop();
    await ipmi?.stop();
  });

  it('powers each new install attempt into PXE exactly once, with a broken BMC next to it', async () => {
    const rf = redfish.url.replace(/^http:/, 'redfish+http:');
    // The broken hosts first, so they are failing while the good ones are served.
    await client.create(HostType, host('slow-bmc', '52:54:00:00:09:01', { address: `${slow.url.replace(/^http:/, 'redfish+http:')}/redfish/v1/Systems/1`, credentialsSecretRef: { name: 'redfish-bmc' } }, false));
    await client.create(HostType, host('wrong-password', '52:54:00:00:09:02', { address: `${rf}/redfish/v1/Systems/2`, credentialsSecretRef: { name: 'wrong-bmc' } }, false));
    await client.create(HostType, host('no-secret', '52:54:00:00:09:03', { address: `${rf}/redfish/v1/Systems/2`, credentialsSecretRef: { name: 'missing-bmc' } }, false));
    await client.create(HostType, host('bad-address', '52:54:00:00:09:04', { address: 'redfish+http://127.0.0.1/redfish/v2/Chassis/1', credentialsSecretRef: { name: 'redfish-bmc' } }, false));
    await client.create(HostType, host('node-rf', '52:54:00:00:09:10', { address: `${rf}/redfish/v1/Systems/1`, credentialsSecretRef: { name: 'redfish-bmc' } }, true));
    if (ipmi) await client.create(HostType, host('node-ipmi', '52:54:00:00:09:11', { address: `ipmi://127.0.0.1:${ipmi.port}`, credentialsSecretRef: { name: 'ipmi-bmc' } }, true));

    const rfHost = await waitHost('node-rf', 'power-cycled for attempt 1', (h) => h.status?.power?.lastProvisioningAttempt === 1 && h.status.power.state === 'On');
    expect(rfHost.status?.state).toBe('Provisioning');
    expect(rfHost.status?.power?.lastProvisioningAt).toBeDefined();
    expect(condition(rfHost, 'BMCReachable')).toMatchObject({ status: 'True', reason: 'Reachable' });
    expect(condition(rfHost, 'CredentialsValid')).toMatchObject({ status: 'True', reason: 'Accepted' });
    // The state machine's conditions survive next to ours.
    expect(condition(rfHost, 'BootConfigReady')?.status).toBe('True');
    expect(redfish.system('1').boots).toEqual(['Pxe']);
    expect(redfish.system('1').boot.BootSourceOverrideEnabled).toBe('Disabled');
    if (ipmi) {
      await waitHost('node-ipmi', 'power-cycled for attempt 1', (h) => h.status?.power?.lastProvisioningAttempt === 1);
      expect(ipmi.boots()).toEqual(['pxe']);
      expect(ipmi.power()).toBe('on');
    }

    const wrong = await waitHost('wrong-password', 'credentials refused', (h) => condition(h, 'CredentialsValid')?.status === 'False');
    expect(condition(wrong, 'CredentialsValid')).toMatchObject({ reason: 'Unauthorized' });
    expect(condition(wrong, 'CredentialsValid')?.message).toMatch(/refused the credentials of user "admin"/);
    expect(condition(wrong, 'BMCReachable')?.status).toBe('True');
    expect(wrong.status?.power?.state).toBe('Unknown');

    const missing = await waitHost('no-secret', 'secret missing', (h) => condition(h, 'CredentialsValid')?.reason === 'SecretNotFound');
    expect(condition(missing, 'CredentialsValid')?.message).toMatch(/Secret power\/missing-bmc .* does not exist/);
    const bad = await waitHost('bad-address', 'address refused', (h) => condition(h, 'CredentialsValid')?.reason === 'InvalidConfig');
    expect(bad.status?.power?.error).toMatch(/spec.bmc.address .* is not \/redfish\/v1\/Systems\/<id>/);

    const slowHost = await waitHost('slow-bmc', 'timeout reported', (h) => condition(h, 'BMCReachable')?.status === 'False');
    expect(condition(slowHost, 'BMCReachable')).toMatchObject({ reason: 'Timeout' });
    expect(condition(slowHost, 'BMCReachable')?.message).toMatch(/did not answer .* within 1.5 s/);
    expect(condition(slowHost, 'CredentialsValid')?.status).toBe('Unknown');
    expect((await events('slow-bmc')).some((e) => e.reason === 'BMCError' && e.type === 'Warning')).toBe(true);

    // The missing Secret appears: the host recovers on its next retry.
    await client.create(CoreResources.secret, secret('missing-bmc', { username: 'admin', password: 'secret' }));
    await waitHost('no-secret', 'credentials accepted', (h) => condition(h, 'CredentialsValid')?.status === 'True' && h.status?.power?.error === undefined);

    const cycles = (await events('node-rf')).filter((e) => e.reason === 'ProvisioningPowerCycle');
    expect(cycles).toHaveLength(1);
    expect(cycles[0]!.note).toMatch(/install attempt 1: next boot set to the network, powered on/);
  });

  it('does not power-cycle the same attempt again after an operator restart', async () => {
    const resetsBefore = redfish.system('1').resets.length;
    const requestsBefore = redfish.requests.length;
    await manager.stop();
    manager = await startOperator();
    // Several polls of node-rf later (the poll interval is 1 s), nothing but reads happened.
    await waitFor('node-rf polled after the restart', async () => redfish.requests.slice(requestsBefore).filter((r) => r.method === 'GET' && r.path === '/redfish/v1/Systems/1').length >= 3);
    expect(redfish.system('1').resets.length).toBe(resetsBefore);
    expect(redfish.system('1').boots).toEqual(['Pxe']);
    expect((await getHost('node-rf')).status?.power?.lastProvisioningAttempt).toBe(1);
  });

  it('carries out a reboot request once, then enforces spec.online', async () => {
    const before = redfish.system('1').boots.length;
    await client.patch(HostType, { namespace: ns, name: 'node-rf' }, 'merge', { spec: { reboot: { requestId: 'reboot-1', mode: 'Hard' } } });
    const h = await waitHost('node-rf', 'reboot recorded', (x) => x.status?.power?.lastRebootRequestId === 'reboot-1');
    expect(h.status?.power?.lastRebootAt).toBeDefined();
    expect(redfish.system('1').resets.at(-1)).toBe('ForceRestart');
    expect(redfish.system('1').boots.slice(before)).toEqual(['Hdd']);
    expect((await events('node-rf')).some((e) => e.reason === 'Rebooted' && /reboot-1 \(Hard\): reset/.test(e.note ?? ''))).toBe(true);

    await client.patch(HostType, { namespace: ns, name: 'node-rf' }, 'merge', { spec: { online: false } });
    await waitHost('node-rf', 'powered off', (x) => x.status?.power?.state === 'Off');
    expect(redfish.system('1').resets.at(-1)).toBe('GracefulShutdown');
    expect(redfish.system('1').boots.slice(before)).toEqual(['Hdd']);

    await client.patch(HostType, { namespace: ns, name: 'node-rf' }, 'merge', { spec: { online: true } });
    await waitHost('node-rf', 'powered on', (x) => x.status?.power?.state === 'On');
    expect(redfish.system('1').resets.at(-1)).toBe('On');
    expect(redfish.system('1').boots.slice(before)).toEqual(['Hdd', 'Hdd']);
  });

  it('after a successful install, a reinstall is the next attempt and is power-cycled into PXE again', async () => {
    let h = await getHost('node-rf');
    const first = h.status!.currentInstall!;
    await recordBoot(client, ns, 'node-rf');
    await waitHost('node-rf', 'installing', (x) => x.status?.state === 'Installing');
    for (const e of subiquityEvents('SUCCESS')) await postEvent(client, ns, 'node-rf', first.installationId!, e);
    await waitHost('node-rf', 'provisioned', (x) => x.status?.state === 'Provisioned');
    const pxeBoots = redfish.system('1').boots.filter((b) => b === 'Pxe').length;

    await client.patch(HostType, { namespace: ns, name: 'node-rf' }, 'merge', { spec: { provisioning: { revision: 2 } } });
    h = await waitHost('node-rf', 'attempt 2 power-cycled', (x) => x.status?.currentInstall?.attempt === 2 && x.status.power?.lastProvisioningAttempt === 2);
    expect(h.status?.state).toBe('Provisioning');
    // The machine was on, so it was reset (not powered on), and booted from the network once.
    expect(redfish.system('1').resets.at(-1)).toBe('ForceRestart');
    expect(redfish.system('1').boots.at(-1)).toBe('Pxe');
    expect(redfish.system('1').boots.filter((b) => b === 'Pxe').length).toBe(pxeBoots + 1);
    expect((await events('node-rf')).filter((e) => e.reason === 'ProvisioningPowerCycle').map((e) => e.note)).toEqual([
      expect.stringMatching(/attempt 1: .*powered on/),
      expect.stringMatching(/attempt 2: .*reset/),
    ]);
  });
});
