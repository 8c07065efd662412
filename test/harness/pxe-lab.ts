// A provisioning network on this machine for end-to-end tests: a network namespace holding a bridge, the VM's tap
// device and dnsmasq (DHCP only), joined to the host by a veth pair so anvil's boot-server — a normal process on the
// host — serves the VM at 10.77.0.1. QEMU (software emulation, e1000 NIC with Debian's iPXE ROM) boots from it.
// Only private addresses inside our own namespace are used. Needs root and the packages from scripts/setup.sh.
// The network is a parameter (default LAB, namespace anvil-e2e on 10.77.0.0/24) so a second lab (the benchmarks'
// anvil-bench) can run beside a CI run without sharing a namespace, an interface or an address.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './processes.js';

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

/** The end-to-end tests' and the demo's lab. */
export const LAB: LabNetwork = labNetwork('anvil-e2e', '10.77.0');

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
    execFileSync('apt-get', ['download', 'debian-installer-12-netboot-amd64'], { cwd: dl, stdio: 'pipe' });
    const deb = readdirSync(dl).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download debian-installer-12-netboot-amd64 produced no .deb');
    rmSync(netboot, { recursive: true, force: true });
    mkdirSync(netboot, { recursive: true });
    execFileSync('dpkg', ['-x', join(dl, deb), netboot]);
    rmSync(dl, { recursive: true, force: true });
  }
  const initrd = join(cache, `initrd-${key}.gz`);
  if (!existsSync(initrd)) {
    const work = mkdtempSync(join(tmpdir(), 'anvil-initrd-'));
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
    execFileSync('sh', ['-c', `find . | cpio -o -H newc --quiet | gzip -9 > '${initrd}.tmp'`], { cwd: root });
    renameSync(`${initrd}.tmp`, initrd);
    rmSync(work, { recursive: true, force: true });
  }
  return { kernel, initrd };
}

export interface Lab {
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
  /** Which lab network (default LAB). */
  net?: LabNetwork;
  /**
   * Machines whose firmware is a plain PXE client (OVMF's own PXE, no iPXE ROM): DHCP hands them this iPXE binary
   * over TFTP first, and then, when iPXE asks again (it sends option 175 and user-class "iPXE"), ipxeBootURL. That
   * check is what breaks the loop a chainloading setup would otherwise have.
   */
  plainPxe?: { macs: string[]; firstStageFile: string };
}

export function teardownLab(net: LabNetwork = LAB): void {
  sh('ip', ['netns', 'pids', net.ns], { ignore: true })
    .split('\n')
    .filter(Boolean)
    .forEach((pid) => sh('kill', ['-9', pid], { ignore: true }));
  sh('ip', ['netns', 'del', net.ns], { ignore: true });
  sh('ip', ['link', 'del', net.hostIf], { ignore: true });
}

export async function startLab(options: LabOptions): Promise<Lab> {
  const net = options.net ?? LAB;
  teardownLab(net);
  const dir = mkdtempSync(join(tmpdir(), 'anvil-lab-'));
  sh('ip', ['netns', 'add', net.ns]);
  sh('ip', ['-n', net.ns, 'link', 'set', 'lo', 'up']);
  sh('ip', ['-n', net.ns, 'link', 'add', 'br0', 'type', 'bridge']);
  sh('ip', ['-n', net.ns, 'addr', 'add', `${net.dhcpIP}/24`, 'dev', 'br0']);
  sh('ip', ['-n', net.ns, 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap']);
  sh('ip', ['-n', net.ns, 'link', 'set', 'tap0', 'master', 'br0']);
  sh('ip', ['link', 'add', net.hostIf, 'type', 'veth', 'peer', 'name', net.nsIf]);
  sh('ip', ['link', 'set', net.nsIf, 'netns', net.ns]);
  sh('ip', ['-n', net.ns, 'link', 'set', net.nsIf, 'master', 'br0']);
  sh('ip', ['addr', 'add', `${net.hostIP}/24`, 'dev', net.hostIf]);
  for (const l of ['br0', 'tap0', net.nsIf]) sh('ip', ['-n', net.ns, 'link', 'set', l, 'up']);
  sh('ip', ['link', 'set', net.hostIf, 'up']);
  const dhcpLog = join(dir, 'dnsmasq.log');
  writeFileSync(dhcpLog, '');
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
  if (options.forceTftp) args.push(`--dhcp-boot=${others}${options.tftpBootFile},,${tftpServer}`);
  else args.push(`--dhcp-boot=${others}tag:ipxe,${options.ipxeBootURL}`, `--dhcp-boot=${others}tag:!ipxe,${options.tftpBootFile},,${tftpServer}`);
  if (options.plainPxe) {
    for (const mac of options.plainPxe.macs) args.push(`--dhcp-host=${mac},set:plainpxe`);
    args.push(`--dhcp-boot=tag:plainpxe,tag:!ipxe,${options.plainPxe.firstStageFile},,${tftpServer}`, `--dhcp-boot=tag:plainpxe,tag:ipxe,${options.ipxeBootURL}`);
  }
  const dnsmasq: ChildProcess = spawn('ip', ['netns', 'exec', net.ns, 'dnsmasq', ...args], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  if (dnsmasq.exitCode !== null) throw new Error(`dnsmasq exited: ${readFileSync(dhcpLog, 'utf8')}`);
  return {
    dhcpLog: () => readFileSync(dhcpLog, 'utf8'),
    stop: async () => {
      dnsmasq.kill('SIGTERM');
      teardownLab(net);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface VmRun {
  exitCode: number | null;
  serial: string;
  /** From QEMU's start to its exit. */
  ms: number;
}

/**
 * Boots a VM from the network; ends when it powers off, or when `until` returns true (then it is killed).
 * `onSerial` sees the console output as it arrives (with the ms since QEMU started).
 */
export async function bootVm(
  mac: string,
  options: { timeoutMs: number; until?: () => Promise<boolean>; net?: LabNetwork; onSerial?: (text: string, ms: number) => void; firmware?: 'bios' | 'uefi' },
): Promise<VmRun> {
  let serial = '';
  const netdev = ['-netdev', 'tap,id=n0,ifname=tap0,script=no,downscript=no'];
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
  const qemu = spawn('ip', ['netns', 'exec', (options.net ?? LAB).ns, 'qemu-system-x86_64', '-m', '512', '-nographic', '-no-reboot', ...machine], {
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
  const deadline = Date.now() + options.timeoutMs;
  let done = false;
  void exited.then(() => (done = true));
  while (!done && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    if (options.until && (await options.until())) break;
  }
  if (!done) qemu.kill('SIGKILL');
  const exitCode = await exited;
  if (varsDir) rmSync(varsDir, { recursive: true, force: true });
  return { exitCode, serial, ms };
}
