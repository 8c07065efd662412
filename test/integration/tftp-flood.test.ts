// Issue 19, TFTP: one source address floods the real boot-server with 3,000 read requests it never acknowledges,
// while a real machine (the tftp-hpa client) on another address fetches an iPXE binary. Two source addresses on one
// host: Linux routes all of 127/8 to lo, so the flood binds 127.0.0.2 and tftp-hpa talks from 127.0.0.1.
// Before the fix the flood took all 256 slots of the server and the real client was told "server busy".
// How fast the client is during the flood is measured in bench/tftp-flood.ts, not asserted here.
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { waitFor } from '../harness/kube.js';
import { startBootServer, type RunningProcess } from '../harness/processes.js';
import { flood, type FloodResult } from '../tftp/flood.js';
import { requireClient, run, sha256File, writeRandomFile } from '../tftp/tools.js';

const UNDIONLY = '/usr/lib/ipxe/undionly.kpxe';
const FLOOD = 3000;
/** More than the whole session table of the server before the fix (256), sent before the real client starts. */
const FIRST_WAVE = 300;
const CLIENT_LIMIT_MESSAGE = 'too many transfers from your address';

/** A UDP port free right now on 127.0.0.1 (the harness's freePort is for TCP). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const { port } = socket.address();
  await new Promise<void>((r) => socket.close(() => r()));
  return port;
}

async function metric(url: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  if (!line) throw new Error(`metric ${name}{${labels}} not exported`);
  return Number(line.split(' ').at(-1));
}

function merge(a: FloodResult, b: FloodResult): FloodResult {
  const refused = { ...a.refused };
  for (const [message, n] of Object.entries(b.refused)) refused[message] = (refused[message] ?? 0) + n;
  return { sent: a.sent + b.sent, opened: a.opened + b.opened, refused, unanswered: a.unanswered + b.unanswered };
}

describe('TFTP under a flood of half-open sessions from one address (real boot-server)', () => {
  let dir: string;
  let cp: ControlPlane | undefined;
  let boot: RunningProcess | undefined;
  let tftpPort: number;
  let expected: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'anvil-tftp-flood-'));
    const root = join(dir, 'tftp');
    await mkdir(root);
    await mkdir(join(dir, 'boot'));
    // The real iPXE binary when Debian's ipxe is installed, else random bytes of its size.
    if (existsSync(UNDIONLY)) await copyFile(UNDIONLY, join(root, 'undionly.kpxe'));
    else await writeRandomFile(join(root, 'undionly.kpxe'), 74_213);
    expected = await sha256File(join(root, 'undionly.kpxe'));
    cp = await startControlPlane();
    tftpPort = await freeUdpPort();
    boot = await startBootServer({ kubeconfig: cp.kubeconfigPath, dir: join(dir, 'boot'), tftpPort, extraArgs: ['--tftp-root', root] });
  }, 180_000);

  afterAll(async () => {
    await boot?.kill();
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a real client on another address gets undionly.kpxe intact while one address floods 3,000 never-acknowledged requests', async () => {
    const tftp = requireClient('tftp');
    const flooder = { host: '127.0.0.1', port: tftpPort, source: '127.0.0.2', file: 'undionly.kpxe' };
    const first = await flood({ ...flooder, requests: FIRST_WAVE });
    const out = join(dir, 'undionly.kpxe.out');
    const [rest, fetched] = await Promise.all([
      flood({ ...flooder, requests: FLOOD - FIRST_WAVE, firstId: FIRST_WAVE }),
      run(tftp, ['-m', 'binary', '127.0.0.1', String(tftpPort), '-c', 'get', 'undionly.kpxe', out]),
    ]);
    // tftp-hpa exits 0 even when the transfer failed ("Error code 0: server busy"): it reports on stdout/stderr.
    expect({ code: fetched.code, output: `${fetched.stdout}${fetched.stderr}`.trim() }).toEqual({ code: 0, output: '' });
    expect(await sha256File(out)).toBe(expected);

    const total = merge(first, rest);
    expect(total.sent).toBe(FLOOD);
    // The flooding source was refused beyond its own cap, told why, and the server never ran out of slots.
    expect(Object.keys(total.refused)).toEqual([CLIENT_LIMIT_MESSAGE]);
    expect(total.opened + (total.refused[CLIENT_LIMIT_MESSAGE] ?? 0) + total.unanswered).toBe(FLOOD);
    // At most 16 at a time, and those reclaimed about a second after opening: a few dozen, not thousands.
    expect(total.opened).toBeLessThan(FLOOD / 10);
    expect(await metric(boot!.url, 'anvil_tftp_session_limit_refusals_total', 'limit="client"')).toBeGreaterThanOrEqual(total.refused[CLIENT_LIMIT_MESSAGE] ?? 0);
    expect(await metric(boot!.url, 'anvil_tftp_session_limit_refusals_total', 'limit="server"')).toBe(0);
    // The flood's sessions are given up at their first timeout (the source is refused, so slots are wanted).
    await waitFor('the flood sessions reclaimed', async () => (await metric(boot!.url, 'anvil_tftp_active_sessions')) === 0, 60_000);
    expect(await metric(boot!.url, 'anvil_tftp_reclaimed_sessions_total')).toBeGreaterThan(0);
  }, 240_000);
});
