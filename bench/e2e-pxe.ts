// Benchmark 6: a QEMU VM network-boots and runs the test installer (test/e2e/installer), through anvil (operator,
// boot-server TFTP + HTTP, real kube-apiserver) and through the stand-in lab of ../shared/reference/pxe-lab/
// (dnsmasq's TFTP + a static HTTP server, here nginx), each on a private network namespace and subnet of its own
// (allocateLabNetwork: never one the demo or the tests use at the same time). Same VM, same kernel, initrd and
// installer; only the servers differ. Then a storm: ANVIL_BENCH_VMS (8; 2 in quick mode) VMs boot at once from one
// boot-server, with every VM's phase times.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { anvilCrds, type BareMetalHost } from '@anvil/core/api';
import type { KubeObject } from '@anvil/core/kube';
import { freePort, startControlPlane } from '../test/harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../test/harness/kube.js';
import { startBootServer } from '../test/harness/processes.js';
import { bootVm, buildTestInstaller, labMissing, startLab, type Lab, type LabNetwork, type VmRun } from '../test/harness/pxe-lab.js';
import type { BenchContext } from './context.js';
import { startNginx, type HttpTarget } from './lib/anchors.js';
import { HostType, createTemplate, hostObject, startOperator } from './lib/operator.js';
import { median, type BenchmarkResult, type Row } from './lib/results.js';

const NAMESPACE = 'bench';
const KERNEL_ARGS = 'console=ttyS0 quiet anvil_test_result=SUCCESS';
type Host = BareMetalHost & KubeObject;
/** Boot r of either setup uses the same MAC (a fresh DHCP lease in both labs). */
const macOf = (r: number): string => `52:54:00:78:01:${String(r + 1).padStart(2, '0')}`;
/** The VMs of the storm: booting at the same time, each on its own tap of the lab's bridge. */
const stormMacOf = (i: number): string => `52:54:00:78:02:${String(i + 1).padStart(2, '0')}`;

interface Boot {
  /** QEMU start -> the installer's /init runs (firmware, DHCP, TFTP, iPXE scripts, kernel and initrd over HTTP, kernel boot). */
  initMs: number;
  /** QEMU start -> the VM powered off after posting every event. */
  totalMs: number;
  /** QEMU start -> the host is Provisioned in the API (anvil only). */
  provisionedMs?: number;
}

/** Boots the VM once and checks that the installer got its seed and reported. */
async function boot(net: LabNetwork, mac: string, label: string, vm: { tap?: string; timeoutMs?: number } = {}): Promise<{ run: VmRun; initMs: number }> {
  let initMs = 0;
  const run = await bootVm(mac, {
    net,
    timeoutMs: vm.timeoutMs ?? 300_000,
    ...(vm.tap ? { tap: vm.tap } : {}),
    onSerial: (serial, ms) => {
      if (!initMs && serial.includes('ANVIL-INSTALLER: started')) initMs = ms;
    },
  });
  for (const marker of ['seed ok', 'reported']) {
    if (!run.serial.includes(`ANVIL-INSTALLER: ${marker}`) || run.serial.includes('post failed')) {
      throw new Error(`${label}: the installer did not finish (no "${marker}"):\n${run.serial.slice(-3000)}`);
    }
  }
  return { run, initMs };
}

async function standIn(ctx: BenchContext, files: { kernel: string; initrd: string }, reps: number): Promise<Boot[]> {
  const www = join(ctx.workDir, 'standin-www');
  const tftp = join(ctx.workDir, 'standin-tftp');
  mkdirSync(join(www, 'seed'), { recursive: true });
  mkdirSync(tftp, { recursive: true });
  writeFileSync(join(www, 'linux'), readFileSync(files.kernel));
  writeFileSync(join(www, 'initrd.gz'), readFileSync(files.initrd));
  // The lab first: nginx listens on the lab's host address.
  const lab = await startLab({ ipxeBootURL: '', tftpBootFile: 'boot.ipxe', forceTftp: true, dnsmasqTftpRoot: tftp });
  let nginx: HttpTarget | undefined;
  try {
    nginx = await startNginx(www, ctx.workDir, lab.net.hostIP);
    const base = nginx.url;
    // The reference lab's chain: boot.ipxe over TFTP, then a script over HTTP; the seed and the webhook are static.
    writeFileSync(join(tftp, 'boot.ipxe'), `#!ipxe\nchain ${base}/boot2.ipxe?mac=\${net0/mac:hexhyp}\n`);
    writeFileSync(
      join(www, 'boot2.ipxe'),
      `#!ipxe\nkernel ${base}/linux initrd=initrd ${KERNEL_ARGS} ds=nocloud-net;s=${base}/seed/ autoinstall\ninitrd --name initrd ${base}/initrd.gz\nboot\n`,
    );
    writeFileSync(
      join(www, 'seed', 'user-data'),
      `#cloud-config\nautoinstall:\n  version: 1\n  identity:\n    hostname: vm-bench\n    username: ubuntu\n  reporting:\n    anvil:\n      type: webhook\n      endpoint: ${base}/hook\n`,
    );
    writeFileSync(join(www, 'seed', 'meta-data'), 'instance-id: vm-bench\nlocal-hostname: vm-bench\n');
    const boots: Boot[] = [];
    for (let r = 0; r < reps; r++) {
      const { run, initMs } = await boot(lab.net, macOf(r), `stand-in boot ${r + 1}`);
      boots.push({ initMs, totalMs: run.ms });
      ctx.log(`e2e-pxe stand-in boot ${r + 1}: init after ${(initMs / 1000).toFixed(1)} s, off after ${(run.ms / 1000).toFixed(1)} s`);
    }
    return boots;
  } finally {
    await nginx?.server.stop();
    await lab.stop();
  }
}

interface AnvilBoots {
  one: Boot[];
  /** The storm: every VM's times from the moment they were all started (failed ones with their error). */
  storm: Array<(Boot & { name: string }) | { name: string; error: string }>;
}

async function anvil(ctx: BenchContext, files: { kernel: string; initrd: string }, reps: number, stormVms: number): Promise<AnvilBoots> {
  const bodies: Record<string, Buffer> = { '/linux': readFileSync(files.kernel), '/initrd.gz': readFileSync(files.initrd) };
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  const mirror: HttpServer = createServer((req, res) => {
    const body = bodies[req.url ?? ''];
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Length': body.length }).end(body);
  });
  const mirrorPort = await freePort();
  await new Promise<void>((r) => mirror.listen(mirrorPort, '127.0.0.1', r));
  const cp = await startControlPlane();
  let lab: Lab | undefined;
  try {
    const client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, NAMESPACE);
    const stormMacs = Array.from({ length: stormVms }, (_, i) => stormMacOf(i));
    lab = await startLab({ ipxeBootURL: '', tftpBootFile: 'boot.ipxe', forceTftp: true, taps: Math.max(1, stormVms), reservations: stormMacs });
    const port = await freePort();
    mkdirSync(join(ctx.workDir, 'boot'), { recursive: true });
    const bootServer = await startBootServer({
      kubeconfig: cp.kubeconfigPath,
      dir: join(ctx.workDir, 'boot'),
      host: lab.net.hostIP,
      port,
      tftpPort: 69,
      env: { LOG_LEVEL: 'info', ...(ctx.cpuProfDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${ctx.cpuProfDir}` } : {}) },
      extraArgs: ['--namespace', NAMESPACE],
    });
    try {
      const operator = await startOperator({ kubeconfig: cp.kubeconfigPath, namespace: NAMESPACE, bootServerURL: bootServer.url, workDir: ctx.workDir, ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
      const kernel = { url: `http://127.0.0.1:${mirrorPort}/linux`, sha256: sha(bodies['/linux']!) };
      const initrd = { url: `http://127.0.0.1:${mirrorPort}/initrd.gz`, sha256: sha(bodies['/initrd.gz']!) };
      await createTemplate(client, NAMESPACE, { kernel, initrd, kernelArgs: KERNEL_ARGS });
      const boots: Boot[] = [];
      for (let r = 0; r < reps; r++) {
        const name = `vm-${r + 1}`;
        const mac = macOf(r);
        await client.create(HostType, hostObject(NAMESPACE, name, mac));
        const state = async (): Promise<string | undefined> => (await client.get<Host>(HostType, { namespace: NAMESPACE, name }))?.status?.state;
        await waitFor(`${name} Provisioning with its boot config`, async () => {
          const h = await client.get<Host>(HostType, { namespace: NAMESPACE, name });
          return h?.status?.state === 'Provisioning' && h.status.conditions?.some((c) => c.type === 'BootConfigReady' && c.status === 'True');
        }, 60_000, 200);
        // The asset cache is warm (as for nginx, which serves from disk): fetched from the mirror once, before timing.
        if (r === 0) for (const a of [kernel, initrd]) await (await fetch(`${bootServer.url}/assets/${a.sha256}/warm`)).arrayBuffer();
        const t0 = performance.now();
        const { run, initMs } = await boot(lab.net, mac, `anvil boot ${r + 1}`);
        await waitFor(`${name} Provisioned`, async () => (await state()) === 'Provisioned', 60_000, 100);
        const provisionedMs = performance.now() - t0;
        boots.push({ initMs, totalMs: run.ms, provisionedMs });
        ctx.log(`e2e-pxe anvil boot ${r + 1}: init after ${(initMs / 1000).toFixed(1)} s, off after ${(run.ms / 1000).toFixed(1)} s, Provisioned after ${(provisionedMs / 1000).toFixed(1)} s`);
      }
      // The storm: every VM at once from the same boot-server, each its own host; times from the common start.
      const storm: AnvilBoots['storm'] = [];
      if (stormVms > 1) {
        const vms = stormMacs.map((mac, i) => ({ name: `storm-${i + 1}`, mac, tap: `tap${i}` }));
        for (const vm of vms) await client.create(HostType, hostObject(NAMESPACE, vm.name, vm.mac));
        await waitFor(`${stormVms} storm hosts Provisioning with their boot configs`, async () => {
          const hosts = await Promise.all(vms.map((vm) => client.get<Host>(HostType, { namespace: NAMESPACE, name: vm.name })));
          return hosts.every((h) => h?.status?.state === 'Provisioning' && h.status.conditions?.some((c) => c.type === 'BootConfigReady' && c.status === 'True'));
        }, 120_000, 250);
        const t0 = performance.now();
        const outcomes = await Promise.allSettled(
          vms.map(async (vm) => {
            const { run, initMs } = await boot(lab!.net, vm.mac, `anvil storm ${vm.name}`, { tap: vm.tap, timeoutMs: 300_000 * stormVms });
            const offMs = performance.now() - t0;
            await waitFor(`${vm.name} Provisioned`, async () => (await client.get<Host>(HostType, { namespace: NAMESPACE, name: vm.name }))?.status?.state === 'Provisioned', 120_000, 200);
            // Init and power-off as QEMU saw them, shifted to the common start (QEMU's own start came a little later).
            const started = offMs - run.ms;
            return { name: vm.name, initMs: started + initMs, totalMs: offMs, provisionedMs: performance.now() - t0 };
          }),
        );
        outcomes.forEach((o, i) => storm.push(o.status === 'fulfilled' ? o.value : { name: vms[i]!.name, error: String(o.reason).slice(0, 300) }));
        for (const b of storm) ctx.log('error' in b ? `e2e-pxe storm ${b.name}: FAILED ${b.error}` : `e2e-pxe storm ${b.name}: init after ${(b.initMs / 1000).toFixed(1)} s, off after ${(b.totalMs / 1000).toFixed(1)} s, Provisioned after ${(b.provisionedMs! / 1000).toFixed(1)} s`);
      }
      await operator.server.stop();
      return { one: boots, storm };
    } catch (err) {
      throw new Error(`${String(err)}\n--- boot-server\n${bootServer.logs().slice(-3000)}`);
    } finally {
      await bootServer.kill();
    }
  } finally {
    await lab?.stop();
    await cp.stop();
    await new Promise((r) => mirror.close(r));
  }
}

export async function e2ePxe(ctx: BenchContext): Promise<BenchmarkResult> {
  const missing = labMissing();
  if (missing) throw new Error(`e2e-pxe needs the PXE lab: ${missing}`);
  const reps = ctx.quick ? 1 : 3;
  const stormVms = Number(process.env.ANVIL_BENCH_VMS) || (ctx.quick ? 2 : 8);
  const files = buildTestInstaller();
  // Alternating would need two labs at once; the stand-in runs first, then anvil, each `reps` times.
  const standInBoots = await standIn(ctx, files, reps);
  await sleep(1000);
  const { one: anvilBoots, storm } = await anvil(ctx, files, reps, stormVms);
  const med = (boots: Boot[], f: (b: Boot) => number | undefined): number | null => {
    const v = boots.map(f).filter((x): x is number => typeof x === 'number' && x > 0);
    return v.length ? median(v) / 1000 : null;
  };
  const anchor = 'stand-in (dnsmasq TFTP + nginx)';
  const rows: Row[] = [
    { setting: 'QEMU start -> installer /init running', metric: 'time', unit: 's', better: 'lower', anvil: med(anvilBoots, (b) => b.initMs), anchors: { [anchor]: med(standInBoots, (b) => b.initMs) } },
    { setting: 'QEMU start -> installer done, VM off', metric: 'time', unit: 's', better: 'lower', anvil: med(anvilBoots, (b) => b.totalMs), anchors: { [anchor]: med(standInBoots, (b) => b.totalMs) } },
    { setting: 'QEMU start -> host Provisioned in the API', metric: 'time', unit: 's', better: 'lower', anvil: med(anvilBoots, (b) => b.provisionedMs), anchors: { [anchor]: null } },
  ];
  const stormNotes: string[] = [];
  if (storm.length) {
    const ok = storm.filter((b): b is Boot & { name: string } => !('error' in b));
    const one = med(anvilBoots, (b) => b.provisionedMs);
    const slowest = ok.length ? Math.max(...ok.map((b) => b.provisionedMs!)) / 1000 : null;
    const setting = `${storm.length} VMs at once`;
    rows.push(
      { setting, metric: 'VMs that failed', unit: 'VMs', better: 'lower', anvil: storm.length - ok.length, anchors: { [anchor]: null } },
      { setting, metric: 'start -> the last host Provisioned', unit: 's', better: 'lower', anvil: ok.length === storm.length ? slowest : null, anchors: { [anchor]: null } },
      { setting, metric: "the last host Provisioned, in one VM's time (target 1.5)", unit: 'x', better: 'lower', anvil: ok.length === storm.length && slowest && one ? slowest / one : null, anchors: { [anchor]: null } },
      { setting, metric: 'median VM: start -> installer /init running', unit: 's', better: 'lower', anvil: med(ok, (b) => b.initMs), anchors: { [anchor]: null } },
      { setting, metric: 'median VM: start -> host Provisioned', unit: 's', better: 'lower', anvil: med(ok, (b) => b.provisionedMs), anchors: { [anchor]: null } },
    );
    stormNotes.push(
      `${storm.length} VMs at once (anvil only): every VM a host of its own, all Provisioning with their boot configs published, then all QEMU processes started together, each on its own tap of the lab's bridge, with a DHCP reservation (the lab's dnsmasq otherwise offers one address to several VMs asking at once and NAKs all but one, and iPXE gives up); times from that common start. Per VM (init running / powered off / Provisioned): ${storm.map((b) => ('error' in b ? `${b.name} failed (${b.error})` : `${b.name} ${(b.initMs / 1000).toFixed(1)} / ${(b.totalMs / 1000).toFixed(1)} / ${(b.provisionedMs! / 1000).toFixed(1)} s`)).join('; ')}. The VMs are emulated (TCG, no KVM here): each wants a core of its own while it boots Linux, and the machine has 2, so the emulation, not the servers, sets the pace; the servers' share is what one VM's phases show.`,
    );
  }
  return {
    name: 'e2e-pxe',
    title: '6. End-to-end PXE boot of a QEMU VM',
    anchorNames: [anchor],
    rows,
    commands: ['npm run bench -- --only e2e-pxe   # root, QEMU; a network namespace and 10.x.y.0/24 of its own per lab; ANVIL_BENCH_VMS=8 VMs at once'],
    notes: [
      `Median of ${reps} boot(s) each. QEMU without KVM (TCG), e1000 NIC with Debian's iPXE ROM, 512 MiB; DHCP from dnsmasq in the namespace, which sends the ROM to TFTP for boot.ipxe; the script chains to HTTP, which serves the Debian netboot kernel, the test installer initrd and the NoCloud seed; the installer posts 12 subiquity-shaped events and powers off.`,
      'anvil: boot.ipxe from the boot-server\'s TFTP, the per-host script, seed (token-checked) and events (spooled with fsync, shipped to the status and the embedded history database) from its HTTP; kernel and initrd from its verified asset cache, warmed before timing. The stand-in: dnsmasq\'s TFTP and nginx serving the same bytes as static files, and a static 200 for the events; it tracks nothing, hence n/a for Provisioned.',
      'The two setups run one after the other, not interleaved (one lab at a time). Most of the time is the emulated CPU booting Linux; the servers\' share is the difference between the columns.',
      ...stormNotes,
    ],
    load: { before: 0, after: 0 },
    seconds: 0,
  };
}
