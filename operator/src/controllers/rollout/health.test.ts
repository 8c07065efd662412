import type { BareMetalHost } from '@anvil/core/api';
import type { HealthCheck, ProbeResult } from '../../rollout/index.js';
import { checkHealth } from './health.js';

const NOW = new Date('2026-06-01T10:00:00Z');
const later = (s: number) => new Date(NOW.getTime() + s * 1000);
const host = (name: string, ip?: string): BareMetalHost =>
  ({
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name, namespace: 'ns' },
    spec: { bootMACAddress: '52:54:00:00:00:01' },
    status: {
      state: 'Provisioned',
      currentInstall: { attempt: 1, revision: 2, installationId: `i-${name}`, startedAt: '2026-06-01T09:40:00Z', finishedAt: '2026-06-01T09:59:00Z', result: 'SUCCESS' },
      ...(ip ? { lastBootRequest: { time: '2026-06-01T09:40:00Z', clientIP: ip } } : {}),
    },
  }) as BareMetalHost;

const checks: HealthCheck[] = [{ kind: 'tcp', port: 22 }];
const policy = { timeoutSeconds: 600, monitorSeconds: 60, intervalSeconds: 5 };

describe('health checks of a wave', () => {
  it('probes at the address of the last boot request, backs off while failing, then watches a passing host for the monitoring window', async () => {
    const asked: string[] = [];
    let up = false;
    const prober = async (address: string, check: HealthCheck): Promise<ProbeResult> => {
      asked.push(`${address}:${check.kind === 'tcp' ? check.port : ''}`);
      return up ? { ok: true, message: 'tcp/22: open' } : { ok: false, message: 'tcp/22: ECONNREFUSED' };
    };
    const first = await checkHealth([host('a', '10.0.0.5')], [], checks, policy, NOW, prober);
    expect(asked).toEqual(['10.0.0.5:22']);
    expect(first.entries).toEqual([expect.objectContaining({ host: 'a', installationId: 'i-a', verdict: 'pending', failures: 1, message: 'not healthy yet: tcp/22: ECONNREFUSED' })]);
    expect(first.nextInMs).toBe(5000);
    // not due yet: nothing probed, the entry kept
    const early = await checkHealth([host('a', '10.0.0.5')], first.entries, checks, policy, later(2), prober);
    expect(asked).toHaveLength(1);
    expect(early.entries).toEqual(first.entries);
    up = true;
    const passing = await checkHealth([host('a', '10.0.0.5')], first.entries, checks, policy, later(6), prober);
    expect(passing.entries[0]).toMatchObject({ verdict: 'pending', passingSince: later(6).toISOString() });
    const healthy = await checkHealth([host('a', '10.0.0.5')], passing.entries, checks, policy, later(70), prober);
    expect(healthy.entries[0]).toMatchObject({ verdict: 'passed' });
    expect(healthy.nextInMs).toBeUndefined();
    // a verdict is kept without probing again
    const before = asked.length;
    await checkHealth([host('a', '10.0.0.5')], healthy.entries, checks, policy, later(80), prober);
    expect(asked).toHaveLength(before);
  });

  it('fails a host without an address, and one that stops passing during the monitoring window', async () => {
    const never = async (): Promise<ProbeResult> => ({ ok: true, message: 'open' });
    const noAddress = await checkHealth([host('b')], [], checks, { ...policy, timeoutSeconds: 0 }, NOW, never);
    expect(noAddress.entries[0]).toMatchObject({ verdict: 'failed', message: expect.stringContaining('no known address') });
    let ok = true;
    const flaky = async (): Promise<ProbeResult> => (ok ? { ok: true, message: 'open' } : { ok: false, message: 'tcp/22: ETIMEDOUT' });
    const passing = await checkHealth([host('c', '10.0.0.6')], [], checks, policy, NOW, flaky);
    ok = false;
    const dropped = await checkHealth([host('c', '10.0.0.6')], passing.entries, checks, policy, later(10), flaky);
    expect(dropped.entries[0]).toMatchObject({ verdict: 'failed', message: 'stopped passing during the monitoring window: tcp/22: ETIMEDOUT' });
  });

  it('starts over for a new install of the host', async () => {
    const prober = async (): Promise<ProbeResult> => ({ ok: true, message: 'open' });
    const old = { host: 'a', installationId: 'i-old', verdict: 'failed' as const, since: NOW.toISOString(), failures: 3, message: 'x' };
    const round = await checkHealth([host('a', '10.0.0.5')], [old], checks, policy, NOW, prober);
    expect(round.entries).toEqual([expect.objectContaining({ installationId: 'i-a', verdict: 'pending' })]);
  });
});
