// The operator process serves the dashboard on --dashboard-port (and only there, not on its metrics port), fed by its
// own BareMetalHost and AutoinstallTemplate caches and guarded by TokenReview/SubjectAccessReview on the real API server.
import { jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { AnvilResources, anvilCrds } from '@anvil/core/api';
import type { KubeObject } from '@anvil/core/kube';
import { freePort, startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import { ROOT } from '../harness/processes.js';

jest.setTimeout(180_000);

let cp: ControlPlane | undefined;
let operator: ChildProcess | undefined;
const NS = `dash-op-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  cp = await startControlPlane();
  const client = clientFor(cp);
  await installCrds(client, anvilCrds as unknown as KubeObject[]);
  await ensureNamespace(client, NS);
});
afterAll(async () => {
  if (operator && operator.exitCode === null && operator.signalCode === null) {
    const exited = new Promise((r) => operator!.once('exit', r));
    operator.kill('SIGTERM');
    await exited;
  }
  await cp?.stop();
});

it('serves the dashboard API on its own port, live from the informer cache, only with a token', async () => {
  const [metricsPort, dashboardPort] = [await freePort(), await freePort()];
  operator = spawn(
    process.execPath,
    ['--conditions=anvil-source', '--import', 'tsx', join(ROOT, 'operator', 'src', 'main.ts'), '--kubeconfig', cp!.kubeconfigPath, '--metrics-host', '127.0.0.1', '--metrics-port', String(metricsPort), '--leader-elect', 'false', '--namespace', NS, '--dashboard-port', String(dashboardPort)],
    { stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn' } },
  );
  const dashboard = `http://127.0.0.1:${dashboardPort}`;
  const anonymous = await waitFor('the dashboard port', async () => {
    const res = await fetch(`${dashboard}/api/hosts`).catch(() => undefined);
    return res && { status: res.status, body: (await res.json()) as { error: string } };
  }, 90_000, 250);
  expect(anonymous).toEqual({ status: 401, body: expect.objectContaining({ error: 'Unauthorized' }) });
  expect((await fetch(`http://127.0.0.1:${metricsPort}/api/hosts`)).status).toBe(404);

  // The event stream is fed by the operator's informer: a host created now arrives as `added`.
  const auth = { Authorization: `Bearer ${cp!.token}` };
  const events = await fetch(`${dashboard}/api/events`, { headers: auth });
  expect(events.status).toBe(200);
  const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while (!text.includes('event: ready')) text += (await reader.read()).value ?? '';
  await clientFor(cp!).create(AnvilResources.bareMetalHost, { apiVersion: 'anvil.dev/v1alpha1', kind: 'BareMetalHost', metadata: { name: 'via-operator', namespace: NS }, spec: { bootMACAddress: '52:54:00:0f:00:01' } });
  while (!/event: host\ndata: \{"type":"added","host":\{"namespace":"[^"]+","name":"via-operator"/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the event stream ended: ${text}`);
    text += value;
  }
  await reader.cancel();

  const page = (await (await fetch(`${dashboard}/api/hosts?namespace=${NS}`, { headers: auth })).json()) as { items: { name: string }[] };
  expect(page.items.map((h) => h.name)).toEqual(['via-operator']);
  // The templates view is fed by the operator's AutoinstallTemplate informer (the one its template controller runs).
  await clientFor(cp!).create(AnvilResources.autoinstallTemplate, { apiVersion: 'anvil.dev/v1alpha1', kind: 'AutoinstallTemplate', metadata: { name: 'via-operator', namespace: NS }, spec: { userData: '#cloud-config\nautoinstall:\n  version: 1\n' } });
  const listed = await waitFor('the template in GET /api/templates', async () => {
    const res = await fetch(`${dashboard}/api/templates`, { headers: auth });
    const body = (await res.json()) as { autoinstall?: { namespace: string; name: string; installer: string; hostCount: number }[] };
    return body.autoinstall?.find((t) => t.name === 'via-operator');
  }, 30_000, 250);
  expect(listed).toEqual(expect.objectContaining({ namespace: NS, installer: 'ubuntu-autoinstall', hostCount: 0 }));
  // The page itself: served when the browser app is built (npm run build), else a 503 that says so.
  const root = await fetch(`${dashboard}/`);
  if (root.status === 503) expect(((await root.json()) as { message: string }).message).toMatch(/not built.*npm run build/);
  else expect(root.headers.get('content-type')).toMatch(/^text\/html/);
});
