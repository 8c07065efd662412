// Level-based and free when nothing changed: on a real kube-apiserver, a periodic resync of hosts waiting for their
// machines makes no API request and renders nothing; a change to a Secret the hosts reference is noticed through a
// metadata-only watch (the operator never caches Secret values) and re-renders only the hosts that use it.
import { jest } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { anvilCrds, type BareMetalHost } from '@anvil/core/api';
import { fromSecret, type BootConfig } from '@anvil/core/bootconfig';
import { CoreResources, type KubeClient, type KubeObject, type ResourceType } from '@anvil/core/kube';
import { RestKubeClient, loadKubeConfig } from '@anvil/core/kube/rest-client';
import { silentLogger } from '@anvil/core/logging';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import { HostType } from '../harness/installer-sim.js';

jest.setTimeout(180_000);

type Host = BareMetalHost & KubeObject;
const ns = 'inputs';
const RESYNC_MS = 2000;
const TemplateType: ResourceType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'AutoinstallTemplate', plural: 'autoinstalltemplates', namespaced: true };

const userData = `#cloud-config
autoinstall:
  version: 1
  identity:
    hostname: {{ host.hostname | yaml }}
    username: ubuntu
    password: {{ passwordHash | yaml }}
`;

const hashOf = (n: number): string => `$6$salt${n}$${'x'.repeat(85)}${n}`; // a well-formed SHA-512 crypt hash

function host(name: string, mac: string, secret: string): KubeObject {
  return {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name, namespace: ns },
    spec: {
      bootMACAddress: mac,
      hostname: name,
      templateRef: { name: 'ubuntu' },
      secretRefs: [{ name: secret, key: 'password-hash', variable: 'passwordHash' }],
      provisioning: { revision: 1, timeoutSeconds: 3600 },
    },
  };
}

const secret = (name: string, n: number): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: ns },
  stringData: { 'password-hash': hashOf(n) },
});

describe('BareMetalHost render inputs on a real API server', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let manager: Manager;
  const requests: string[] = [];

  const getHost = async (name: string) => (await client.get<Host>(HostType, { namespace: ns, name }))!;
  const bootConfig = async (name: string): Promise<BootConfig | undefined> => {
    const s = await client.get(CoreResources.secret, { namespace: ns, name: `${name}-bootconfig` });
    return s ? fromSecret(s) : undefined;
  };
  const waiting = (h: Host | undefined) =>
    h?.status?.state === 'Provisioning' && h.status.conditions?.some((c) => c.type === 'BootConfigReady' && c.status === 'True');
  const waitState = async (name: string, timeoutMs = 30_000): Promise<void> => {
    try {
      await waitFor(`${name} waiting for its machine`, async () => waiting(await getHost(name)), timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}; its status: ${JSON.stringify((await getHost(name)).status)}`);
    }
  };
  const reconciles = async (): Promise<number> => {
    const metric = await manager.metrics.registry.getSingleMetric('controller_runtime_reconcile_total')!.get();
    return metric.values.filter((v) => v.labels.controller === 'baremetalhost').reduce((a, v) => a + v.value, 0);
  };

  beforeAll(async () => {
    cp = await startControlPlane();
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, ns);
    // Started on an empty namespace: an empty metadata-only list is its own case ("items": null).
    const operatorClient = new RestKubeClient(loadKubeConfig(cp.kubeconfigPath), { onRequest: (verb, type) => requests.push(`${verb} ${type.plural}`) });
    manager = new Manager({ client: operatorClient, log: silentLogger(), identity: 'test', namespaces: [ns], resyncPeriodMs: RESYNC_MS });
    registerControllers(manager, { maxConcurrentReconciles: 2, log: silentLogger(), bootServerURL: 'http://10.0.0.2:8080' });
    await manager.start();
    await client.create(CoreResources.secret, secret('shared-creds', 1));
    await client.create(CoreResources.secret, secret('own-creds', 1));
    await client.create(TemplateType, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'AutoinstallTemplate',
      metadata: { name: 'ubuntu', namespace: ns },
      spec: { boot: { kernel: { url: 'http://127.0.0.1:9/vmlinuz', sha256: 'a'.repeat(64) }, initrd: { url: 'http://127.0.0.1:9/initrd', sha256: 'b'.repeat(64) } }, userData },
    });
    for (const [i, name] of ['node-a', 'node-b', 'node-c'].entries()) {
      await client.create(HostType, host(name, `52:54:00:aa:00:0${i + 1}`, name === 'node-c' ? 'own-creds' : 'shared-creds'));
    }
    for (const name of ['node-a', 'node-b', 'node-c']) await waitState(name);
  });

  afterAll(async () => {
    await manager?.stop();
    await cp?.stop();
  });

  it('caches only the metadata of referenced Secrets, never their values or anvil boot configs', () => {
    const cached = manager.informer<KubeObject>(CoreResources.secret, { labelSelector: 'anvil.dev/boot-config!=true', metadataOnly: true });
    const creds = cached.get(ns, 'shared-creds');
    expect(creds?.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(creds?.kind).toBe('PartialObjectMetadata');
    expect(creds).not.toHaveProperty('data');
    expect(cached.list(ns).map((s) => s.metadata.name)).not.toContain('node-a-bootconfig');
  });

  it('a periodic resync of hosts waiting for their machines makes no API request', async () => {
    // Counted in resyncs, not in time: the host informer's resync events (onUpdate with the same object).
    const hosts = 3;
    let hostResyncs = 0;
    manager.informer<Host>(HostType).addHandlers({ onUpdate: (o, n) => void (o === n && hostResyncs++) });
    // Let the writes of the first reconciles settle: a whole resync goes by and is reconciled.
    await waitFor('a first resync', async () => hostResyncs >= hosts, 60_000, 100);
    const settled = await reconciles();
    await waitFor('its reconciles', async () => (await reconciles()) >= settled + hosts, 60_000, 100);
    const before = await reconciles();
    const resyncsBefore = hostResyncs;
    requests.length = 0;
    await waitFor('two more resyncs reconciled', async () => (await reconciles()) - before >= 2 * hosts, 60_000, 100);
    const resynced = (await reconciles()) - before;
    const resyncEvents = hostResyncs - resyncsBefore;
    // Every host once per resync of hosts (plus those of a resync in flight when counting began): the resyncs of the
    // Secrets, templates and boot configs a host depends on do not enqueue it again.
    expect(resynced).toBeLessThanOrEqual(resyncEvents + hosts);
    expect(requests.filter((r) => !r.startsWith('watch '))).toEqual([]);
  });

  it('a changed Secret re-renders the hosts that use it at once (same attempt and token), and no other host', async () => {
    const [a, b, c] = [await bootConfig('node-a'), await bootConfig('node-b'), await bootConfig('node-c')];
    expect(a?.install?.userData).toContain(hashOf(1));
    const current = (await client.get<KubeObject & { data: Record<string, string> }>(CoreResources.secret, { namespace: ns, name: 'shared-creds' }))!;
    await client.replace(CoreResources.secret, { ...current, data: { 'password-hash': Buffer.from(hashOf(2)).toString('base64') } });

    for (const [name, before] of [['node-a', a], ['node-b', b]] as const) {
      const after = await waitFor(`${name} re-rendered`, async () => {
        const cfg = await bootConfig(name);
        return cfg?.install?.userData.includes(hashOf(2)) ? cfg : undefined;
      }, 15_000);
      expect(after.install?.token).toBe(before?.install?.token);
      expect(after.install?.installationId).toBe(before?.install?.installationId);
      expect(after.install?.inputsHash).not.toBe(before?.install?.inputsHash);
    }
    await sleep(RESYNC_MS);
    expect((await bootConfig('node-c'))?.install?.inputsHash).toBe(c?.install?.inputsHash);
  });

  it('a host whose Secret is missing waits with a clear reason and goes on as soon as the Secret is created', async () => {
    await client.create(HostType, host('node-d', '52:54:00:aa:00:04', 'late-creds'));
    const refused = await waitFor('node-d refused', async () => {
      const h = await getHost('node-d');
      return h.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False');
    });
    expect(refused.reason).toBe('SecretNotFound');
    expect(refused.message).toContain('late-creds');
    await client.create(CoreResources.secret, secret('late-creds', 3));
    // The host's own retry is 60 s away: only the Secret's watch event can make this happen within 15 s.
    await waitState('node-d', 15_000);
    expect((await bootConfig('node-d'))?.install?.userData).toContain(hashOf(3));
  });
});
