// Stands in for the boot-server in controller tests: records boot requests and installer events on a host's status
// with the same JSON patches the boot-server makes (shared/src/install/host-status-updates.ts).
import { bootRequestPatch, installerEventsPatch, type InstallationMemory } from '@anvil/core/install';
import type { InstallerEvent } from '@anvil/core/install';
import { CoreResources, type KubeClient, type KubeObject, type ResourceType } from '@anvil/core/kube';

export const HostType: ResourceType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'BareMetalHost', plural: 'baremetalhosts', namespaced: true };

export async function recordBoot(client: KubeClient, namespace: string, name: string, path = '/boot.ipxe'): Promise<void> {
  const host = await client.get<KubeObject & { status?: object }>(HostType, { namespace, name });
  const ops = bootRequestPatch({ time: new Date().toISOString(), clientIP: '10.0.0.50', path, served: 'InstallScript' }, !!host?.status);
  await client.patch(HostType, { namespace, name }, 'json', ops, { subresource: 'status' });
}

// What the boot-server's status sink remembers between batches (the deepest failure, the verdict), per installation.
const memories = new Map<string, InstallationMemory>();

export async function postEvent(client: KubeClient, namespace: string, name: string, installationId: string, event: InstallerEvent): Promise<void> {
  const { ops, memory } = installerEventsPatch(installationId, [{ event, receivedAt: new Date() }], memories.get(installationId));
  await client.patch(HostType, { namespace, name }, 'json', ops, { subresource: 'status' });
  memories.set(installationId, memory);
}

/** A realistic subiquity/curtin sequence, ending in SUCCESS or FAIL (the failure propagating out to the top level). */
export function subiquityEvents(result: 'SUCCESS' | 'FAIL'): InstallerEvent[] {
  const t = Date.now() / 1000;
  const ev = (i: number, name: string, event_type: string, extra: Partial<InstallerEvent> = {}): InstallerEvent => ({ name, event_type, origin: name.startsWith('subiquity') ? 'subiquity' : 'curtin', timestamp: t + i, ...extra });
  const events = [
    ev(0, 'subiquity/Early/run', 'start', { description: 'running early commands' }),
    ev(1, 'subiquity/Early/run', 'finish', { result: 'SUCCESS' }),
    ev(2, 'subiquity/Install/install', 'start', { description: 'installing system' }),
    ev(3, 'subiquity/Install/install/partitioning', 'start'),
    ev(4, 'subiquity/Install/install/partitioning', 'finish', { result: 'SUCCESS' }),
    ev(5, 'subiquity/Install/install/extract', 'start'),
    ev(6, 'subiquity/Install/install/extract', 'finish', { result: 'SUCCESS' }),
    ev(7, 'subiquity/Install/install/curthooks', 'start', { description: 'configuring installed system' }),
  ];
  if (result === 'FAIL') {
    events.push(
      ev(8, 'cmd-install/stage-curthooks/builtin/cmd-curthooks', 'finish', { result: 'FAIL', description: 'curtin command curthooks failed' }),
      ev(9, 'subiquity/Install/install/curthooks', 'finish', { result: 'FAIL', description: 'configuring installed system' }),
      ev(10, 'subiquity/Install/install', 'finish', { result: 'FAIL', description: 'installing system' }),
    );
    return events;
  }
  events.push(
    ev(8, 'subiquity/Install/install/curthooks', 'finish', { result: 'SUCCESS' }),
    ev(9, 'subiquity/Install/install/postinstall', 'start'),
    ev(10, 'subiquity/Install/install/postinstall', 'finish', { result: 'SUCCESS' }),
    ev(11, 'subiquity/Install/install', 'finish', { result: 'SUCCESS', description: 'installing system' }),
  );
  return events;
}

/** A crypt(3) hash of a test password (never a plain one: anvil refuses those). */
export const TEST_PASSWORD_HASH = '$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0';

/** The smallest installable setup in `ns`: Secret `creds` holding that hash, and AutoinstallTemplate `t` that uses it. */
export async function createMinimalTemplate(client: KubeClient, ns: string): Promise<void> {
  await client.create(CoreResources.secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: ns }, stringData: { hash: TEST_PASSWORD_HASH } });
  await client.create({ group: 'anvil.dev', version: 'v1alpha1', kind: 'AutoinstallTemplate', plural: 'autoinstalltemplates', namespaced: true }, {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'AutoinstallTemplate',
    metadata: { name: 't', namespace: ns },
    spec: {
      // upstream on loopback that refuses at once: boot-servers prefetch assets, and tests send nothing off the machine
      boot: { kernel: { url: 'http://127.0.0.1:9/k', sha256: 'a'.repeat(64) }, initrd: { url: 'http://127.0.0.1:9/i', sha256: 'b'.repeat(64) } },
      userData: '#cloud-config\nautoinstall:\n  version: 1\n  identity:\n    hostname: h\n    username: u\n    password: {{ hash | yaml }}\n',
    },
  });
}
