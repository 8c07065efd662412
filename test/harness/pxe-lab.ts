// A provisioning network on this machine for end-to-end tests: a network namespace holding a bridge, the VM's tap
// device and dnsmasq (DHCP only), joined to the host by a veth pair so anvil's boot-server — a normal process on the
// host — serves the VM at the lab's hostIP. QEMU (software emulation, e1000 NIC with Debian's iPXE ROM) boots from it.
// Only private addresses inside our own namespace are used. Needs root and the packages from scripts/setup.sh.
// Every lab gets its own namespace name and a /24 no interface or route on this machine uses (claimed under
// /run/anvil-labs), so the demo, the end-to-end tests and the benchmarks can run at the same time. A lab is removed
// by stop(), and also when its process exits or gets SIGINT/SIGTERM; a lab whose process was killed outright is
// removed by the next allocation on this machine.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { allocateLabNetwork, labStateDir, releaseLabNetwork, type LabNetwork } from './lab-network.js';
import { ROOT } from './processes.js';

export { allocateLabNetwork, labNetwork, type LabNetwork } from './lab-network.js';

const sh = (cmd: string, args: string[], opts: { ns?: string; ignore?: boolean } = {}): string => {
  const [c, a] = opts.ns ? ['ip', ['netns', 'exec', opts.ns, cmd, ...args]] : [cmd, args];
  try {
    return execFileSync(c, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if (opts.ignore) return '';
    const e = err as { stderr?: string; message: string };
    throw new Error(`${c} ${a.join(' ')}: ${e.stderr || e.message}`);
  }
};

/** Debian's OVMF (package ovmf): UEFI firmware for the plain-PXE VM. */
export const OVMF = { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' };

export function ovmfMissing(): string | undefined {
  return existsSync(OVMF.code) && existsSync(OVMF.vars) ? undefined : `${OVMF.code} not found: run 'bash scripts/setup.sh' (installs ovmf)`;
}

export function labMissing(): string | undefined {
  for (const bin of ['qemu-system-x86_64', 'dnsmasq', 'busybox', 'cpio', 'ip']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} not found: run 'bash scripts/setup.sh' (installs qemu-system-x86, ipxe-qemu, ipxe, dnsmasq-base, busybox-static, cpio)`;
    }
  }
  if (process.getuid?.() !== 0) return 'the PXE lab needs root (network namespaces, tap devices)';
  return undefined;
}

/**
 * The test installer: Debian's netboot kernel (debian-installer-12-netboot-amd64, which also provides the NIC
 * modules: e1000 for the BIOS VM, virtio-net for the UEFI one) and our busybox initrd from test/e2e/installer.
 * Cached outside the checkout, keyed by both.
 */
/** Kernel modules for the installer's NIC, in load order (dependencies first). */
const INSTALLER_MODULES = ['e1000', 'virtio', 'virtio_ring', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio_pci', 'failover', 'net_failover', 'virtio_net'];

export function buildTestInstaller(): { kernel: string; initrd: string } {
  const installerDir = join(ROOT, 'test', 'e2e', 'installer');
  const key = createHash('sha256')
    .update(readFileSync(join(installerDir, 'init')))
    .update(readFileSync(join(installerDir, 'udhcpc-script')))
    .update(INSTALLER_MODULES.join(','))
    .digest('hex')
    .slice(0, 12);
  const cache = join(process.env.ANVIL_CACHE_DIR ?? join(homedir(), '.cache', 'anvil'), 'e2e-installer');
  const netboot = join(cache, 'netboot');
  const kernel = join(netboot, 'usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/linux');
  const d_i_initrd = join(netboot, 'usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/initrd.gz');
  if (!existsSync(kernel)) {
    const dl = mkdtempSync(join(tmpdir(), 'anvil-netboot-'));
    try {
      execFileSync('apt-get', ['download', 'debian-installer-12-netboot-amd64'], { cwd: dl, stdio: 'pipe' });
      const deb = readdirSync(dl).find((f) => f.endsWith('.deb'));
      if (!deb) throw new Error('apt-get download debian-installer-12-netboot-amd64 produced no .deb');
      // Unpacked beside it, then renamed into place: a demo and a test doing this at the same time must not mix.
      const partial = `${netboot}.${process.pid}.tmp`;
      mkdirSync(partial, { recursive: true });
      execFileSync('dpkg', ['-x', join(dl, deb), partial]);
      if (existsSync(kernel)) {
        rmSync(partial, { recursive: true, force: true }); // another run finished first
      } else {
        rmSync(netboot, { recursive: true, force: true }); // an incomplete one, from a run killed half-way
        try {
          renameSync(partial, netboot);
        } catch (err) {
          rmSync(partial, { recursive: true, force: true });
          if (!existsSync(kernel)) throw err; // unless another run's complete copy got there first
        }
      }
    } finally {
      rmSync(dl, { recursive: true, force: true });
    }
  }
  const initrd = join(cache, `initrd-${key}.gz`);
  if (!existsSync(initrd)) {
    const work = mkdtempSync(join(tmpdir(), 'anvil-initrd-'));
    try {
      const extract = join(work, 'di');
      mkdirSync(extract);
      execFileSync('sh', ['-c', `zcat '${d_i_initrd}' | cpio -idm --quiet ${INSTALLER_MODULES.map((m) => `'*/${m}.ko'`).join(' ')}`], { cwd: extract });
      const root = join(work, 'root');
      for (const d of ['bin', 'lib/modules', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(root, d), { recursive: true });
      copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
      for (const m of INSTALLER_MODULES) {
        const ko = execFileSync('find', [extract, '-name', `${m}.ko`], { encoding: 'utf8' }).trim().split('\n')[0];
        if (!ko) throw new Error(`${m}.ko not found in the Debian installer initrd`);
        copyFileSync(ko, join(root, `lib/modules/${m}.ko`));
      }
      writeFileSync(join(root, 'lib/modules/load-order'), INSTALLER_MODULES.join('\n') + '\n');
      copyFileSync(join(installerDir, 'init'), join(root, 'init'));
      copyFileSync(join(installerDir, 'udhcpc-script'), join(root, 'bin/udhcpc-script'));
      chmodSync(join(root, 'init'), 0o755);
      chmodSync(join(root, 'bin/udhcpc-script'), 0o755);
      chmodSync(join(root, 'bin/busybox'), 0o755);
      // A name of our own until complete: a demo and a test building it at the same time must not mix their bytes.
      const partial = `${initrd}.${process.pid}.tmp`;
      execFileSync('sh', ['-c', `find . | cpio -o -H newc --quiet | gzip -9 > '${partial}'`], { cwd: root });
      renameSync(partial, initrd);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return { kernel, initrd };
}

export interface Lab {
  /** The lab's namespace and addresses (anvil's boot-server listens on net.hostIP). */
  readonly net: LabNetwork;
  stop(): Promise<void>;
  dhcpLog(): string;
}

export interface LabOptions {
  /** DHCP boot filename for iPXE clients (option 175): normally the boot-server's HTTP entry script. */
  ipxeBootURL: string;
  /** Boot filename over TFTP (from the lab's hostIP) for clients that are not iPXE, or for every client when forceTftp. */
  tftpBootFile: string;
  /** Send every client to TFTP first (exercises anvil's TFTP with the QEMU ROM, which is iPXE itself). */
  forceTftp?: boolean;
  /** Serve TFTP from dnsmasq itself (at dhcpIP) out of this directory instead of sending clients to hostIP. */
  dnsmasqTftpRoot?: string;
  /** The network, from allocateLabNetwork() (when the boot URL must be known first); a new one by default. */
  net?: LabNetwork;
  /**
   * Machines whose firmware is a plain PXE client (OVMF's own PXE, no iPXE ROM): DHCP hands them this iPXE binary
   * over TFTP first, and then, when iPXE asks again (it sends option 175 and user-class "iPXE"), ipxeBootURL. That
   * check is what breaks the loop a chainloading setup would otherwise have.
   */
  plainPxe?: { macs: string[]; firstStageFile: string };
  /** Hand out addresses only, no boot options: another server (anvil's proxyDHCP) names the boot file. */
  addressesOnly?: boolean;
  /** No DHCP server in the lab at all: anvil's managed DHCP is the network's (dhcpLog() stays empty). */
  noDhcp?: boolean;
  /** Tap devices on the lab's bridge (tap0, tap1, ...): one per VM that runs at the same time (default 1). */
  taps?: number;
  /**
   * MACs given a fixed address each (the subnet's .10, .11, ...), as a site reserves its machines' addresses. Needed
   * when many machines ask at the same instant: dnsmasq can offer one free address to several of them, NAKs all but
   * the first REQUEST, and iPXE gives up after a few NAKs.
   */
  reservations?: string[];
}

/** Creates the lab's network and starts dnsmasq in it; on failure nothing is left behind (the network is released). */
export async function startLab(options: LabOptions): Promise<Lab> {
  const net = options.net ?? allocateLabNetwork();
  const dir = labStateDir(net);
  mkdirSync(dir, { recursive: true });
  let dnsmasq: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    dnsmasq?.kill('SIGTERM');
    releaseLabNetwork(net);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    sh('ip', ['netns', 'add', net.ns]);
    sh('ip', ['-n', net.ns, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', net.ns, 'link', 'add', 'br0', 'type', 'bridge']);
    sh('ip', ['-n', net.ns, 'addr', 'add', `${net.dhcpIP}/24`, 'dev', 'br0']);
    const taps = Array.from({ length: Math.max(1, options.taps ?? 1) }, (_, i) => `tap${i}`);
    for (const tap of taps) {
      sh('ip', ['-n', net.ns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
      sh('ip', ['-n', net.ns, 'link', 'set', tap, 'master', 'br0']);
    }
    sh('ip', ['link', 'add', net.hostIf, 'type', 'veth', 'peer', 'name', net.nsIf]);
    sh('ip', ['link', 'set', net.nsIf, 'netns', net.ns]);
    sh('ip', ['-n', net.ns, 'link', 'set', net.nsIf, 'master', 'br0']);
    sh('ip', ['addr', 'add', `${net.hostIP}/24`, 'dev', net.hostIf]);
    for (const l of ['br0', ...taps, net.nsIf]) sh('ip', ['-n', net.ns, 'link', 'set', l, 'up']);
    sh('ip', ['link', 'set', net.hostIf, 'up']);
    const dhcpLog = join(dir, 'dnsmasq.log');
    writeFileSync(dhcpLog, '');
    if (options.noDhcp) return { net, dhcpLog: () => readFileSync(dhcpLog, 'utf8'), stop };
    const args = [
      '--no-daemon', '--port=0', '--interface=br0', '--bind-interfaces', '--except-interface=lo',
      `--dhcp-range=${net.rangeStart},${net.rangeEnd},255.255.255.0,1h`,
      '--dhcp-leasefile=' + join(dir, 'leases'), '--log-dhcp', `--log-facility=${dhcpLog}`,
      // iPXE announces itself both ways: option 175 (its encapsulated settings) and user-class "iPXE".
      '--dhcp-match=set:ipxe,175',
      '--dhcp-userclass=set:ipxe,iPXE',
    ];
    const tftpServer = options.dnsmasqTftpRoot ? net.dhcpIP : net.hostIP;
    if (options.dnsmasqTftpRoot) args.push('--enable-tftp', `--tftp-root=${options.dnsmasqTftpRoot}`, '--user=root');
    // With plain-PXE machines, every other rule applies only to the rest (tags make the rules exclusive).
    const others = options.plainPxe ? 'tag:!plainpxe,' : '';
    if (options.addressesOnly) {
      // no --dhcp-boot at all
    } else if (options.forceTftp) args.push(`--dhcp-boot=${others}${options.tftpBootFile},,${tftpServer}`);
    else args.push(`--dhcp-boot=${others}tag:ipxe,${options.ipxeBootURL}`, `--dhcp-boot=${others}tag:!ipxe,${options.tftpBootFile},,${tftpServer}`);
    const prefix = net.hostIP.slice(0, net.hostIP.lastIndexOf('.'));
    (options.reservations ?? []).forEach((mac, i) => args.push(`--dhcp-host=${mac},${prefix}.${10 + i}`));
    if (options.plainPxe) {
      for (const mac of options.plainPxe.macs) args.push(`--dhcp-host=${mac},set:plainpxe`);
      args.push(`--dhcp-boot=tag:plainpxe,tag:!ipxe,${options.plainPxe.firstStageFile},,${tftpServer}`, `--dhcp-boot=tag:plainpxe,tag:ipxe,${options.ipxeBootURL}`);
    }
    const child = spawn('ip', ['netns', 'exec', net.ns, 'dnsmasq', ...args], { stdio: 'ignore' });
    dnsmasq = child;
    // Ready once it has logged its DHCP range (it logs at startup, after binding).
    for (let i = 0; i < 200 && child.exitCode === null && !readFileSync(dhcpLog, 'utf8').includes('DHCP, IP range'); i++) await sleep(50);
    if (child.exitCode !== null || !readFileSync(dhcpLog, 'utf8').includes('DHCP, IP range')) throw new Error(`dnsmasq did not start (exit ${child.exitCode}): ${readFileSync(dhcpLog, 'utf8')}`);
    return { net, dhcpLog: () => readFileSync(dhcpLog, 'utf8'), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface VmRun {
  exitCode: number | null;
  serial: string;
  /** From QEMU's start to its exit. */
  ms: number;
}

/**
 * Boots a VM in the lab's network from the network; ends when it powers off, or when `until` returns true (then it
 * is killed; also when `until` throws). `onSerial` sees the console output as it arrives (with the ms since QEMU started).
 */
export async function bootVm(
  mac: string,
  options: {
    /** The lab whose tap (tap0 unless `tap` says) the VM's NIC uses; or `netns` for a tap in another namespace. */
    net?: LabNetwork;
    /** The lab's tap device, for VMs that run at the same time (startLab's `taps`). */
    tap?: string;
    /** QEMU runs through `enter` (a command prefix such as nsenter) on the tap device `tap` of that namespace. */
    netns?: { enter: string[]; tap: string };
    timeoutMs: number;
    until?: () => Promise<boolean>;
    onSerial?: (text: string, ms: number) => void;
    firmware?: 'bios' | 'uefi';
  },
): Promise<VmRun> {
  let serial = '';
  const enter = options.netns?.enter ?? (options.net ? ['ip', 'netns', 'exec', options.net.ns] : undefined);
  if (!enter?.length) throw new Error('bootVm needs a lab network (net) or a namespace (netns)');
  const netdev = ['-netdev', `tap,id=n0,ifname=${options.netns?.tap ?? options.tap ?? 'tap0'},script=no,downscript=no`];
  let machine: string[];
  let varsDir: string | undefined;
  if (options.firmware === 'uefi') {
    // OVMF with EDK2's own network stack on a virtio NIC and no option ROM: a plain UEFI PXE client, no iPXE in it.
    varsDir = mkdtempSync(join(tmpdir(), 'anvil-ovmf-'));
    copyFileSync(OVMF.vars, join(varsDir, 'vars.fd'));
    machine = [
      '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF.code}`,
      '-drive', `if=pflash,format=raw,unit=1,file=${join(varsDir, 'vars.fd')}`,
      ...netdev, '-device', `virtio-net-pci,netdev=n0,mac=${mac},romfile=`,
    ];
  } else {
    // SeaBIOS with QEMU's e1000 option ROM, which is iPXE itself.
    machine = ['-boot', 'n', ...netdev, '-device', `e1000,netdev=n0,mac=${mac}`];
  }
  const started = performance.now();
  const qemu = spawn(enter[0]!, [...enter.slice(1), 'qemu-system-x86_64', '-m', '512', '-nographic', '-no-reboot', ...machine], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = (d: Buffer): void => {
    serial += d.toString('latin1');
    options.onSerial?.(serial, performance.now() - started);
  };
  qemu.stdout!.on('data', output);
  qemu.stderr!.on('data', output);
  let ms = 0;
  const exited = new Promise<number | null>((r) =>
    qemu.once('exit', (code) => {
      ms = performance.now() - started;
      r(code);
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  try {
    const deadline = Date.now() + options.timeoutMs;
    while (!done && Date.now() < deadline) {
      await sleep(500);
      if (options.until && (await options.until())) break;
    }
  } finally {
    if (!done) qemu.kill('SIGKILL');
    await exited;
    if (varsDir) rmSync(varsDir, { recursive: true, force: true });
  }
  return { exitCode: await exited, serial, ms };
}
