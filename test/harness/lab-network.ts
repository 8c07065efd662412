// The private networks of PXE labs: a network namespace per lab (a veth pair to the host), named after the process
// that owns it, on a 10.x.y.0/24 that no interface or route of this machine uses. A subnet is claimed by creating
// /run/anvil-labs/<10.x.y> exclusively, so two labs allocated at the same moment (the demo, the end-to-end tests
// and the benchmarks, side by side) never get the same one. A lab is removed when its owner releases it, exits or
// gets SIGINT/SIGTERM; what a process killed outright left behind is removed by the next allocation.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LabNetwork {
  ns: string;
  hostIf: string;
  nsIf: string;
  hostIP: string;
  dhcpIP: string;
  rangeStart: string;
  rangeEnd: string;
}

/** A lab network: namespace `ns` (interfaces `<ns>-h`/`<ns>-n`) on the /24 `prefix` (e.g. "10.77.0"). */
export function labNetwork(ns: string, prefix: string): LabNetwork {
  if (!/^[a-z][a-z0-9-]{0,12}$/.test(ns)) throw new Error(`lab namespace "${ns}": at most 13 characters of [a-z0-9-] (interface names take 2 more)`);
  if (!/^10\.\d{1,3}\.\d{1,3}$/.test(prefix)) throw new Error(`lab prefix "${prefix}": a private 10.x.y /24, e.g. 10.77.0`);
  return { ns, hostIf: `${ns}-h`, nsIf: `${ns}-n`, hostIP: `${prefix}.1`, dhcpIP: `${prefix}.2`, rangeStart: `${prefix}.50`, rangeEnd: `${prefix}.99` };
}

const CLAIMS = process.env.ANVIL_LAB_CLAIMS_DIR ?? '/run/anvil-labs';

interface Claim {
  ns: string;
  prefix: string;
  pid: number;
}

const run = (cmd: string, args: string[]): string => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return '';
  }
};

/** Kills what runs in the lab's namespace, then removes the namespace and the host end of the veth pair. */
export function teardownLab(net: LabNetwork): void {
  for (const pid of run('ip', ['netns', 'pids', net.ns]).split('\n').filter(Boolean)) run('kill', ['-9', pid]);
  run('ip', ['netns', 'del', net.ns]);
  run('ip', ['link', 'del', net.hostIf]);
}

const prefixOf = (net: LabNetwork): string => net.hostIP.replace(/\.1$/, '');
const claimPath = (prefix: string): string => join(CLAIMS, prefix);

/** Where the lab keeps its files (dnsmasq's log and leases): removed with the lab, however its process ended. */
export const labStateDir = (net: LabNetwork): string => `${claimPath(prefixOf(net))}.d`;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Removes the labs whose owning process is gone (killed before it could clean up). */
function sweepAbandoned(): void {
  for (const name of readdirSync(CLAIMS)) {
    if (name.endsWith('.d')) continue;
    let claim: Claim;
    try {
      claim = JSON.parse(readFileSync(claimPath(name), 'utf8')) as Claim;
    } catch {
      continue; // being written right now, or not ours
    }
    if (alive(claim.pid)) continue;
    const net = labNetwork(claim.ns, claim.prefix);
    teardownLab(net);
    rmSync(labStateDir(net), { recursive: true, force: true });
    rmSync(claimPath(name), { force: true });
  }
}

/** The IPv4 networks this machine has addresses in or routes to (any table), as [address, prefix length]. */
function networksInUse(): [number, number][] {
  const cidrs = [
    ...run('ip', ['-o', '-4', 'addr', 'show']).matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\/(\d+)/g),
    ...run('ip', ['-4', 'route', 'show', 'table', 'all']).matchAll(/^(?:[a-z]+ )?(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/gm),
  ];
  return cidrs.map((m) => [toInt(m[1]!), Number(m[2] ?? 32)]);
}

const toInt = (ip: string): number => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);

function overlaps(a: [number, number], b: [number, number]): boolean {
  const len = Math.min(a[1], b[1]);
  if (len === 0) return false; // the default route is not a network we would shadow
  const mask = len === 32 ? 0xffffffff : ~(0xffffffff >>> len) >>> 0;
  return ((a[0] & mask) >>> 0) === ((b[0] & mask) >>> 0);
}

let sequence = 0;
const owned = new Map<string, LabNetwork>();

/**
 * A network for a new lab, claimed for this process: namespace `anvil-<pid>-<n>` on a random free 10.x.y.0/24
 * (x from 64 to 254). Give it to startLab; the lab's stop() releases it.
 */
export function allocateLabNetwork(): LabNetwork {
  mkdirSync(CLAIMS, { recursive: true });
  sweepAbandoned();
  const ns = `anvil-${process.pid.toString(36)}-${(sequence++ % 36).toString(36)}`;
  const inUse = networksInUse();
  for (let attempt = 0; attempt < 200; attempt++) {
    const prefix = `10.${64 + Math.floor(Math.random() * 191)}.${Math.floor(Math.random() * 256)}`;
    if (inUse.some((n) => overlaps(n, [toInt(`${prefix}.0`), 24]))) continue;
    let fd: number;
    try {
      fd = openSync(claimPath(prefix), 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue; // another lab has it
      throw err;
    }
    writeFileSync(fd, JSON.stringify({ ns, prefix, pid: process.pid } satisfies Claim));
    closeSync(fd);
    const net = labNetwork(ns, prefix);
    teardownLab(net); // left by an earlier process with our pid
    rmSync(labStateDir(net), { recursive: true, force: true });
    track(net);
    return net;
  }
  throw new Error(`no free 10.x.y.0/24 for a lab after 200 tries (claims in ${CLAIMS})`);
}

/** Removes the lab's namespace and interfaces and gives its subnet back. Idempotent. */
export function releaseLabNetwork(net: LabNetwork): void {
  teardownLab(net);
  try {
    const claim = JSON.parse(readFileSync(claimPath(prefixOf(net)), 'utf8')) as Claim;
    if (claim.pid === process.pid && claim.ns === net.ns) {
      rmSync(labStateDir(net), { recursive: true, force: true });
      rmSync(claimPath(prefixOf(net)), { force: true });
    }
  } catch {
    // already released
  }
  untrack(net);
}

// Labs still held when the process ends are removed then: on a normal exit, process.exit(), and SIGINT/SIGTERM
// (after which the signal is raised again if nobody else handles it, so the process still ends as it would have).
// Jest gives tests a copy of `process` that never sees these events: there, afterAll's stop() removes the lab, and
// the next allocation removes what an interrupted run left behind.
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function releaseAll(): void {
  for (const net of [...owned.values()]) releaseLabNetwork(net);
}

function onSignal(signal: NodeJS.Signals): void {
  releaseAll();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function track(net: LabNetwork): void {
  if (owned.size === 0) {
    process.on('exit', releaseAll);
    for (const s of SIGNALS) process.once(s, onSignal);
  }
  owned.set(net.ns, net);
}

function untrack(net: LabNetwork): void {
  if (!owned.delete(net.ns) || owned.size > 0) return;
  process.off('exit', releaseAll);
  for (const s of SIGNALS) process.off(s, onSignal);
}
