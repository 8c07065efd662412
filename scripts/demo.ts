// The demo: a real kube-apiserver on loopback, anvil's CRDs, the quickstart examples, and the operator process.
// Runs until Ctrl-C; with --check it verifies the operator became healthy and exits (used by the test suite).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { anvilCrds } from '../shared/src/api/index.js';
import type { KubeObject } from '../shared/src/kube/index.js';
import { startControlPlane, freePort } from '../test/harness/control-plane.js';
import { clientFor, installCrds } from '../test/harness/kube.js';
import { kubeTools } from '../test/harness/tools.js';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));

const check = process.argv.includes('--check');
const root = join(HERE, '..');

const cp = await startControlPlane({ controllerManager: true });
const client = clientFor(cp);
await installCrds(client, anvilCrds as unknown as KubeObject[]);
const { kubectl } = kubeTools();
const env = { ...process.env, KUBECONFIG: cp.kubeconfigPath };
execFileSync(kubectl, ['apply', '-f', join(root, 'examples', 'quickstart')], { env, stdio: 'inherit' });

const metricsPort = await freePort();
const operator = spawn(
  process.execPath,
  ['--import', 'tsx', join(root, 'operator', 'src', 'main.ts'), '--kubeconfig', cp.kubeconfigPath, '--metrics-port', String(metricsPort), '--metrics-host', '127.0.0.1'],
  { stdio: ['ignore', check ? 'pipe' : 'inherit', 'inherit'], env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' } },
);

const stopAll = async (code: number): Promise<never> => {
  operator.kill('SIGTERM');
  await new Promise((r) => operator.once('exit', r));
  await cp.stop();
  process.exit(code);
};
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

let healthy = false;
for (let i = 0; i < 100 && !healthy; i++) {
  await sleep(200);
  try {
    healthy = (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).ok;
  } catch {
    // not up yet
  }
}
if (!healthy) {
  console.error('the operator did not become ready');
  await stopAll(1);
}

// The quickstart host is validated, rendered and published within a moment.
for (let i = 0; i < 100; i++) {
  const state = execFileSync(kubectl, ['get', 'bmh', 'node-01', '-o', 'jsonpath={.status.state}'], { env, encoding: 'utf8' });
  if (state === 'Provisioning') break;
  await sleep(200);
}
console.log('\n' + execFileSync(kubectl, ['get', 'anvil', '-o', 'wide'], { env, encoding: 'utf8' }));
console.log(execFileSync(kubectl, ['get', 'secret', '-l', 'anvil.dev/boot-config=true', '-L', 'anvil.dev/mac'], { env, encoding: 'utf8' }));
console.log(`anvil demo is running.
  export KUBECONFIG=${cp.kubeconfigPath}
  ${kubectl} get anvil            # every anvil object (category)
  ${kubectl} explain bmh.spec      # the documented API
  curl -s http://127.0.0.1:${metricsPort}/metrics | grep controller_runtime
  ${join(root, 'scripts', 'anvil')} render node-01 --kubeconfig ${cp.kubeconfigPath}   # what node-01 would receive
The BareMetalHost and AutoinstallTemplate controllers run; node-01 waits in Provisioning for a machine to boot.
The boot-server that machines boot from is not built yet (issue 4; see docs/status.md).
Press Ctrl-C to stop.`);
if (check) await stopAll(0);
