import { Registry } from 'prom-client';
import type { BareMetalHost } from '@anvil/core/api';
import type { KubeObject } from '@anvil/core/kube';
import type { InformerHandlers } from '@anvil/core/kube';
import { registerHostMetrics } from './host-metrics.js';

type Host = BareMetalHost & KubeObject;

class FakeHosts {
  hosts: Host[] = [];
  handlers: InformerHandlers<Host>[] = [];
  get(_ns: string | undefined, name: string) {
    return this.hosts.find((h) => h.metadata.name === name);
  }
  list() {
    return this.hosts;
  }
  addHandlers(h: InformerHandlers<Host>) {
    this.handlers.push(h);
  }
  update(next: Host) {
    const old = this.get(next.metadata.namespace, next.metadata.name!)!;
    this.hosts = this.hosts.map((h) => (h === old ? next : h));
    for (const h of this.handlers) h.onUpdate?.(old, next);
  }
}

const host = (name: string, status: Host['status']): Host => ({ apiVersion: 'anvil.dev/v1alpha1', kind: 'BareMetalHost', metadata: { name, namespace: 'lab' }, spec: { bootMACAddress: '52:54:00:00:00:01', templateRef: { name: 'ubuntu' } }, status } as Host);

describe('host metrics', () => {
  it('counts hosts by state, running installs, and each finished install once (leader only)', async () => {
    const registry = new Registry();
    const hosts = new FakeHosts();
    let leader = true;
    const now = Date.parse('2026-11-22T10:10:00Z');
    registerHostMetrics({ hosts, registry, isLeader: () => leader, now: () => now });
    hosts.hosts = [
      host('a', { state: 'Installing', currentInstall: { attempt: 1, revision: 0, startedAt: '2026-11-22T10:00:00Z' } }),
      host('b', { state: 'Provisioned' }),
      host('c', { state: 'Provisioned' }),
    ];
    let text = await registry.metrics();
    expect(text).toMatch(/anvil_hosts\{host_namespace="lab",state="Provisioned"\} 2/);
    expect(text).toMatch(/anvil_hosts\{host_namespace="lab",state="Installing"\} 1/);
    expect(text).toMatch(/anvil_hosts\{host_namespace="lab",state="Failed"\} 0/);
    expect(text).toMatch(/anvil_host_install_running_seconds\{host_namespace="lab",host="a",state="Installing"\} 600/);

    const done = { attempt: 1, revision: 0, installationId: '6c0b6a53-7f43-4a52-9b3e-0d1f1d0c0a01', startedAt: '2026-11-22T10:00:00Z', finishedAt: '2026-11-22T10:12:00Z', result: 'SUCCESS' as const, durationSeconds: 720, reason: 'Succeeded' };
    hosts.update(host('a', { state: 'Provisioned', recentInstalls: [done] }));
    hosts.update(host('a', { state: 'Provisioned', recentInstalls: [done] })); // a later resync: not counted again
    leader = false;
    hosts.update(host('b', { state: 'Failed', recentInstalls: [{ ...done, installationId: '6c0b6a53-7f43-4a52-9b3e-0d1f1d0c0a02', result: 'FAIL', reason: 'Timeout' }] }));
    text = await registry.metrics();
    expect(text).toMatch(/anvil_installs_total\{host_namespace="lab",template="ubuntu",result="SUCCESS",reason="Succeeded"\} 1/);
    expect(text).not.toMatch(/result="FAIL"/);
    expect(text).toMatch(/anvil_install_duration_seconds_bucket\{le="900",host_namespace="lab",template="ubuntu",result="SUCCESS"\} 1/);
    expect(text).toMatch(/anvil_install_duration_seconds_bucket\{le="600",host_namespace="lab",template="ubuntu",result="SUCCESS"\} 0/);
    expect(text).not.toMatch(/anvil_host_install_running_seconds\{/);
  });
});
