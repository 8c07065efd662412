// The test installer (Debian's netboot kernel + the busybox initrd of buildTestInstaller) served by a loopback
// "mirror" the boot-server's asset cache downloads from, and the AutoinstallTemplate that boots it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeObject } from '@anvil/core/kube';
import { buildTestInstaller } from './pxe-lab.js';

export interface InstallerMirror {
  /** Base URL, without a trailing slash: `${url}/linux`, `${url}/initrd.gz`. */
  url: string;
  sha256: { kernel: string; initrd: string };
  close(): Promise<void>;
}

export async function startInstallerMirror(): Promise<InstallerMirror> {
  const installer = buildTestInstaller();
  const files: Record<string, Buffer> = { '/linux': readFileSync(installer.kernel), '/initrd.gz': readFileSync(installer.initrd) };
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const server = createServer((req, res) => {
    const body = files[req.url ?? ''];
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sha256: { kernel: sha(files['/linux']!), initrd: sha(files['/initrd.gz']!) },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** The test installer's template: its result from the `testResult` variable, the password hash from `{{ hash }}`. */
export function testInstallerTemplate(namespace: string, name: string, mirror: InstallerMirror, kernelArgs = 'console=ttyS0 quiet anvil_test_result={{ testResult }}'): KubeObject {
  return {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'AutoinstallTemplate',
    metadata: { name, namespace },
    spec: {
      defaults: { testResult: 'SUCCESS' },
      boot: {
        kernel: { url: `${mirror.url}/linux`, sha256: mirror.sha256.kernel },
        initrd: { url: `${mirror.url}/initrd.gz`, sha256: mirror.sha256.initrd },
        kernelArgs,
      },
      userData: '#cloud-config\nautoinstall:\n  version: 1\n  identity:\n    hostname: {{ host.hostname | yaml }}\n    username: ubuntu\n    password: {{ hash | yaml }}\n',
    },
  } as KubeObject;
}
