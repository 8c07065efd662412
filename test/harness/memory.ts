// Memory of anvil's processes, for the memory test and benchmark: a process's peak and current RSS (the kernel's
// VmHWM and VmRSS), cgroup v1 memory cgroups to run a process under a limit like a pod's (created inside this
// process's own memory cgroup, so they only ever tighten what it already has, and removed afterwards), the embedded
// database's template built once per PGlite version, and installs for the boot-server to take events for (boot
// config Secrets published directly, without the operator).
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { newToken, sha256Hex, toSecret, type BootConfig } from '@anvil/core/bootconfig';
import { CoreResources, type KubeClient } from '@anvil/core/kube';
import { ROOT } from './processes.js';
import { pgliteTemplatePath } from './pglite-template.js';

const MiB = 1024 * 1024;

/** A process's peak and current resident memory in bytes (VmHWM, VmRSS), or undefined once it has exited. */
export function processMemory(pid: number): { peak: number; rss: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string): number | undefined => {
      const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status);
      return m ? Number(m[1]) * 1024 : undefined;
    };
    const [peak, rss] = [kib('VmHWM'), kib('VmRSS')];
    return peak === undefined || rss === undefined ? undefined : { peak, rss }; // a zombie has neither
  } catch {
    return undefined;
  }
}

export const toMiB = (bytes: number): number => bytes / MiB;

// --- cgroup v1 memory cgroups ------------------------------------------------------------------------------------

const PREFIX = 'anvil-mem-';

/** This process's own memory cgroup directory (cgroup v1), or undefined. */
function ownMemoryCgroup(): string | undefined {
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
    if (!line) return undefined;
    const dir = join('/sys/fs/cgroup/memory', line.slice(line.lastIndexOf(':') + 1));
    return existsSync(join(dir, 'memory.limit_in_bytes')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

export interface MemoryCgroup {
  readonly dir: string;
  /** The highest memory charged to the cgroup (RSS and page cache, as a pod's limit counts it), in bytes. */
  maxUsage(): number;
  /** Times the kernel's OOM killer killed a process of this cgroup (undefined when the kernel does not say). */
  oomKills(): number | undefined;
  /** Kills every process still in the cgroup (all started by the caller) and removes it. */
  remove(): Promise<void>;
}

/** Why memory cgroups cannot be used here, or undefined when they can. */
export function memoryCgroupsUnavailable(): string | undefined {
  const own = ownMemoryCgroup();
  if (!own) return 'no cgroup v1 memory controller for this process (/proc/self/cgroup)';
  const probe = join(own, `${PREFIX}probe-${process.pid}`);
  try {
    mkdirSync(probe);
    writeFileSync(join(probe, 'memory.limit_in_bytes'), String(64 * MiB));
    return undefined;
  } catch (err) {
    return `cannot create a memory cgroup under ${own}: ${(err as Error).message}`;
  } finally {
    try {
      rmdirSync(probe);
    } catch {
      // never created
    }
  }
}

/** Removes empty cgroups that an earlier run of this machinery left behind (a test process that was killed). */
function sweep(own: string): void {
  for (const name of readdirSync(own)) {
    if (!name.startsWith(PREFIX)) continue;
    try {
      if (!readFileSync(join(own, name, 'cgroup.procs'), 'utf8').trim()) rmdirSync(join(own, name));
    } catch {
      // in use, or gone meanwhile
    }
  }
}

/** A new memory cgroup limited to `limitBytes` (no swap), or unlimited when undefined. */
export function createMemoryCgroup(name: string, limitBytes?: number): MemoryCgroup {
  const own = ownMemoryCgroup();
  if (!own) throw new Error('no cgroup v1 memory controller');
  sweep(own);
  const dir = join(own, `${PREFIX}${name}-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(dir);
  const file = (f: string): string => join(dir, f);
  if (limitBytes !== undefined) {
    writeFileSync(file('memory.limit_in_bytes'), String(limitBytes));
    if (existsSync(file('memory.memsw.limit_in_bytes'))) writeFileSync(file('memory.memsw.limit_in_bytes'), String(limitBytes));
  }
  return {
    dir,
    maxUsage: () => Number(readFileSync(file('memory.max_usage_in_bytes'), 'utf8')),
    oomKills: () => {
      const m = /^oom_kill (\d+)/m.exec(readFileSync(file('memory.oom_control'), 'utf8'));
      return m ? Number(m[1]) : undefined;
    },
    remove: async () => {
      for (let attempt = 0; existsSync(dir); attempt++) {
        const pids = readFileSync(file('cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
        try {
          rmdirSync(dir);
        } catch (err) {
          if (attempt > 100) throw new Error(`cannot remove the cgroup ${dir}: ${(err as Error).message}`);
          await sleep(100);
        }
      }
    },
  };
}

// --- the embedded database's template ----------------------------------------------------------------------------

/**
 * The template for the installed PGlite, built once into the cache (like the kube-apiserver binaries) by the CLI the
 * image build runs, in a process of its own: PGlite's initdb takes about 1.1 GB and half a minute.
 */
export async function pgliteTemplate(): Promise<string> {
  const file = pgliteTemplatePath();
  if (!existsSync(file)) {
    await promisify(execFile)(process.execPath, ['--conditions=anvil-source', '--import', 'tsx', join(ROOT, 'shared', 'src', 'db', 'drivers', 'pglite-template-cli.ts'), file], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '' },
      timeout: 600_000,
    });
  }
  return file;
}

// --- installs the boot-server takes events for -----------------------------------------------------------------

export interface PublishedInstall {
  installationId: string;
  /** The webhook path (with its token) the installer posts its events to. */
  webhookPath: string;
}

/** Publishes an install-mode boot config Secret for a machine, as the operator would for a BareMetalHost. */
export async function publishInstall(client: KubeClient, namespace: string, name: string, mac: string): Promise<PublishedInstall> {
  const token = newToken();
  const dashed = mac.replace(/:/g, '-');
  const sha = sha256Hex(name);
  const config: BootConfig = {
    mode: 'install',
    hostName: name,
    hostNamespace: namespace,
    hostUID: randomUUID(),
    mac,
    ipxe: `#!ipxe\nkernel http://127.0.0.1/assets/${sha}/vmlinuz autoinstall\nboot\n`,
    install: {
      installationId: randomUUID(),
      revision: 1,
      attempt: 1,
      token,
      tokenSha256: sha256Hex(token),
      userData: `#cloud-config\nautoinstall:\n  version: 1\n  reporting:\n    anvil:\n      type: webhook\n      endpoint: http://127.0.0.1/webhook/${dashed}/${token}\n`,
      metaData: `instance-id: ${name}\n`,
      kernel: { url: 'http://127.0.0.1:9/vmlinuz', sha256: sha },
      initrd: { url: 'http://127.0.0.1:9/initrd', sha256: sha },
    },
  };
  await client.create(CoreResources.secret, toSecret(config, namespace));
  return { installationId: config.install!.installationId, webhookPath: `/webhook/${dashed}/${token}` };
}
