// A control-plane component that exits while the cluster starts fails the start loudly, with that component's own
// output, and the failed start leaves nothing behind (processes, cgroups, the run directory).
import { expect, test } from '@jest/globals';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { kubeBinDir } from '../harness/control-plane.js';
import { startCluster } from '../harness/cluster.js';

const MINUTE = 60_000;

/** PIDs whose command line mentions `text`. */
function processesMentioning(text: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && p !== String(process.pid))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    });
}

test('a kube-controller-manager that exits at start fails the start with its output, and nothing is left', async () => {
  const bin = mkdtempSync(join(tmpdir(), 'anvil-k8s-bin-'));
  const runDir = mkdtempSync(join(tmpdir(), 'anvil-cluster-'));
  try {
    for (const b of ['kube-apiserver', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl']) symlinkSync(join(kubeBinDir(), b), join(bin, b));
    // as a release that dropped a flag the start script passes would
    writeFileSync(join(bin, 'kube-controller-manager'), '#!/bin/sh\necho "Error: unknown flag: --made-up-for-this-test" >&2\nexit 1\n');
    chmodSync(join(bin, 'kube-controller-manager'), 0o755);

    await expect(startCluster({ binDir: bin, runDir })).rejects.toThrow(
      /kube-controller-manager exited during the start[\s\S]*unknown flag: --made-up-for-this-test|unknown flag: --made-up-for-this-test[\s\S]*kube-controller-manager exited during the start/,
    );

    expect(existsSync(runDir)).toBe(false);
    expect(processesMentioning(runDir)).toEqual([]);
    expect(processesMentioning(bin)).toEqual([]);
    const cgroupRoot = `anvil-${basename(runDir)}`;
    expect(readdirSync('/sys/fs/cgroup').filter((c) => existsSync(join('/sys/fs/cgroup', c, cgroupRoot)))).toEqual([]);
  } finally {
    rmSync(bin, { recursive: true, force: true });
    rmSync(runDir, { recursive: true, force: true });
  }
}, 10 * MINUTE);
