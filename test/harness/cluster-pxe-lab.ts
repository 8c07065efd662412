// A provisioning network attached to the test cluster's node, for a QEMU VM that PXE-boots from the boot-server pod
// (hostNetwork). Everything lives inside the cluster's own network + mount namespace: a bridge holds the free end of
// the node's veth pair (node0-peer; node0 keeps the node address 10.200.0.1) and a tap for the VM, so the VM sits on
// the node's own segment, and dnsmasq (DHCP only) on node0 hands out 10.200.0.x with next-server 10.200.0.1. A small
// HTTP mirror (busybox httpd on the node address) serves the test installer's kernel and initrd to the boot-server.
// stop() removes it all; after a killed run, the cluster's stop.sh kills what is left in its namespaces, and the
// bridge and tap go with the namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from './cluster.js';

const BRIDGE = 'pxebr0';
const TAP = 'pxetap0';
/** The node's veth: node0 holds the address, node0-peer is the end this lab bridges. */
const NODE_IF = 'node0';
const NODE_PEER = 'node0-peer';
/** Inside the cluster's namespace, where no component of the cluster listens on it. */
const MIRROR_PORT = 8099;

export interface ClusterPxeLabOptions {
  /** DHCP boot filename, fetched over TFTP from the node address (the boot-server pod's TFTP). */
  tftpBootFile: string;
  /** Files the mirror serves at /<name>. */
  mirrorFiles: Record<string, string>;
}

export interface ClusterPxeLab {
  /** For bootVm's `netns` option: QEMU runs in the cluster's namespace on the lab's tap. */
  readonly vmNetns: { enter: string[]; tap: string };
  /** Base URL of the mirror, reachable from the node's network (hostNetwork pods). */
  readonly mirrorURL: string;
  dhcpLog(): string;
  stop(): Promise<void>;
}

function spawnInCluster(cluster: Cluster, command: string[]): ChildProcess {
  return spawn(join(cluster.dir, 'nsrun'), command, { stdio: 'ignore' });
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Creates the lab in the cluster's namespace; on failure, removes what it created before rethrowing. */
export async function startClusterPxeLab(cluster: Cluster, options: ClusterPxeLabOptions): Promise<ClusterPxeLab> {
  const dir = join(cluster.dir, 'pxe-lab');
  const www = join(dir, 'www');
  mkdirSync(www, { recursive: true });
  const nodeIp = cluster.nodeIp;
  const prefix = nodeIp.replace(/\.\d+$/, '');
  const dhcpLog = join(dir, 'dnsmasq.log');
  writeFileSync(dhcpLog, '');
  let dnsmasq: ChildProcess | undefined;
  let mirror: ChildProcess | undefined;
  const ip = (args: string[]) => cluster.nsrun(['ip', ...args]);

  const stop = async (): Promise<void> => {
    await stopChild(dnsmasq);
    await stopChild(mirror);
    // node0-peer back as it was (unbridged, up), then the lab's own links
    await ip(['link', 'set', NODE_PEER, 'nomaster']).catch(() => undefined);
    await ip(['link', 'del', TAP]).catch(() => undefined);
    await ip(['link', 'del', BRIDGE]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (const [name, file] of Object.entries(options.mirrorFiles)) copyFileSync(file, join(www, name));
    await ip(['link', 'add', BRIDGE, 'type', 'bridge']);
    await ip(['tuntap', 'add', 'dev', TAP, 'mode', 'tap']);
    await ip(['link', 'set', TAP, 'master', BRIDGE]);
    await ip(['link', 'set', NODE_PEER, 'master', BRIDGE]);
    for (const link of [BRIDGE, TAP, NODE_PEER]) await ip(['link', 'set', link, 'up']);

    dnsmasq = spawnInCluster(cluster, [
      'dnsmasq', '--no-daemon', '--port=0', `--interface=${NODE_IF}`, '--bind-interfaces', '--except-interface=lo',
      `--dhcp-range=${prefix}.50,${prefix}.99,255.255.255.0,1h`, `--dhcp-leasefile=${join(dir, 'leases')}`,
      '--log-dhcp', `--log-facility=${dhcpLog}`,
      // every client (QEMU's ROM is iPXE) to the boot-server pod's TFTP first: boot.ipxe chains to its HTTP
      `--dhcp-boot=${options.tftpBootFile},,${nodeIp}`,
    ]);
    mirror = spawnInCluster(cluster, ['busybox', 'httpd', '-f', '-p', `${nodeIp}:${MIRROR_PORT}`, '-h', www]);

    const mirrorURL = `http://${nodeIp}:${MIRROR_PORT}`;
    const ready = async (): Promise<boolean> => {
      if (!readFileSync(dhcpLog, 'utf8').includes('DHCP, IP range')) return false;
      return cluster.nsrun(['curl', '-sSf', '-o', '/dev/null', '--max-time', '2', `${mirrorURL}/`]).then(
        () => true,
        // busybox httpd answers 404 for a directory without index.html: it is listening
        (err: Error) => /\b404\b/.test(err.message),
      );
    };
    for (let i = 0; i < 100 && dnsmasq.exitCode === null && mirror.exitCode === null && !(await ready()); i++) await sleep(100);
    if (dnsmasq.exitCode !== null || mirror.exitCode !== null || !(await ready())) {
      throw new Error(`the cluster PXE lab did not start (dnsmasq exit ${dnsmasq.exitCode}, httpd exit ${mirror.exitCode}):\n${readFileSync(dhcpLog, 'utf8')}`);
    }
    return { vmNetns: { enter: [join(cluster.dir, 'nsrun')], tap: TAP }, mirrorURL, dhcpLog: () => readFileSync(dhcpLog, 'utf8'), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
