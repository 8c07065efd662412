// The debian-preseed kind through the whole render (the real sandboxed worker) and against the REAL Debian installer's
// parts from its netboot initrd (debian-installer-12-netboot-amd64, cached by the PXE lab harness): examples/debian
// renders for its host with hashed passwords; every d-i question it answers that the initrd defines exists there; and
// anvil's early command, run by d-i's own busybox (sh, awk, nc), posts the event to an HTTP server as the webhook
// expects it.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { AutoinstallTemplateSpec, BareMetalHost } from '@anvil/core/api';
import { checkInstallerEvent } from '@anvil/core/install';
import { anvilURLs, lookupOf, ROOT } from '../../../test/fixtures/render.js';
import { resolveTemplate } from '../render/chain.js';
import { renderBootConfig } from '../render/render.js';
import { ProcessRenderer } from '../render/renderer.js';
import { parsePreseed } from './debian-preseed-file.js';
import { D_I_QUESTION_OWNERS, REQUIRED_ANSWERS } from './debian-preseed-questions.js';

const INITRD = join(process.env.ANVIL_CACHE_DIR ?? join(homedir(), '.cache', 'anvil'), 'e2e-installer', 'netboot', 'usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/initrd.gz');
const haveInitrd = existsSync(INITRD);
if (!haveInitrd) console.warn(`${INITRD} not found (the PXE lab harness downloads it: npm run test:integration -- test/integration/e2e-pxe.test.ts): the checks against the real d-i are skipped`);
const withInitrd = haveInitrd ? it : it.skip;

const renderer = new ProcessRenderer();
const scratch = mkdtempSync(join(tmpdir(), 'anvil-preseed-'));
afterAll(async () => {
  await renderer.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** The d-i initrd's files matching the patterns, unpacked below `scratch/initrd` (once). */
function fromInitrd(...patterns: string[]): string {
  const dir = join(scratch, 'initrd');
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `zcat '${INITRD}' | cpio -idm --quiet ${patterns.map((p) => `'${p}'`).join(' ')}`], { cwd: dir });
  return dir;
}

const dir = join(ROOT, 'examples', 'debian');
const objects = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec: unknown; stringData?: Record<string, string> }));
const templates = Object.fromEntries(objects.filter((o) => o.kind === 'AutoinstallTemplate').map((o) => [o.metadata.name, o.spec as AutoinstallTemplateSpec]));
const hostObject = objects.find((o) => o.kind === 'BareMetalHost') as unknown as BareMetalHost;
const secret = objects.find((o) => o.kind === 'Secret')!.stringData!;

async function renderExample(webhookURL: string) {
  const urls = { ...anvilURLs('debian-01'), webhookURL, preseedURL: 'http://10.9.8.7:8080/preseed/52-54-00-12-36-01/t0k3n/preseed.cfg', bootServerURL: 'http://10.9.8.7:8080' };
  return renderBootConfig(
    {
      host: { ...hostObject, metadata: { ...hostObject.metadata, namespace: 'metal' } },
      template: resolveTemplate(hostObject.spec.templateRef!.name, lookupOf(templates)),
      install: { revision: 1, attempt: 1 },
      anvil: urls,
      secrets: { rootPassword: secret['root-password']!, password: secret.password! },
    },
    { renderer },
  );
}

describe('examples/debian', () => {
  it('renders for its host: hashed passwords, anvil\'s hooks, the kernel command line d-i needs', async () => {
    expect(Object.values(templates).map((t) => t.installer)).toEqual(['debian-preseed']);
    const out = await renderExample('http://10.9.8.7:8080/webhook/52-54-00-12-36-01/t0k3n');
    expect(out.installer).toBe('debian-preseed');
    expect(out.userData).toBe('');
    const answers = new Map(parsePreseed(out.preseed!).map((a) => [a.question, a.value]));
    expect(answers.get('passwd/root-password-crypted')).toMatch(/^\$6\$/);
    expect(answers.get('passwd/user-password-crypted')).toMatch(/^\$6\$/);
    for (const password of Object.values(secret)) expect(out.preseed).not.toContain(password);
    expect(answers.get('preseed/early_command')).toContain('nc -w 30 10.9.8.7 8080');
    expect(out.kernelArgs).toBe(
      'auto=true priority=critical url=http://10.9.8.7:8080/preseed/52-54-00-12-36-01/t0k3n/preseed.cfg interface=auto netcfg/get_hostname=debian-01 netcfg/get_domain= log_host=10.9.8.7 log_port=5514 --- console=ttyS0,115200n8',
    );
  });

  withInitrd('answers only questions the real installer defines (those of the udebs in its initrd), and knows their owners', async () => {
    const root = fromInitrd('var/lib/dpkg/info/*.templates');
    const infoDir = join(root, 'var/lib/dpkg/info');
    const defined = new Set(
      readdirSync(infoDir)
        .filter((f) => f.endsWith('.templates'))
        .flatMap((f) => [...readFileSync(join(infoDir, f), 'utf8').matchAll(/^Template: (\S+)$/gm)].map((m) => m[1]!)),
    );
    expect(defined.size).toBeGreaterThan(100);
    const initrdOwners = new Set([...defined].map((q) => q.split('/')[0]!));
    expect([...initrdOwners].filter((o) => !D_I_QUESTION_OWNERS.has(o))).toEqual([]);
    const out = await renderExample('http://10.9.8.7:8080/webhook/52-54-00-12-36-01/t0k3n');
    const asked = [...parsePreseed(out.preseed!).filter((a) => a.owner === 'd-i').map((a) => a.question), ...REQUIRED_ANSWERS.flatMap((r) => r.anyOf.map((a) => a.question))];
    // not in the initrd although their owner is: finish-install's own udeb comes from the mirror (the initrd has only
    // other udebs' finish-install/progress/* questions), and choose-mirror registers mirror/https/* from the http ones
    const notInInitrd = new Set(['finish-install/reboot_in_progress', 'mirror/https/hostname']);
    const checkable = asked.filter((q) => initrdOwners.has(q.split('/')[0]!) && !notInInitrd.has(q));
    expect(checkable.length).toBeGreaterThan(5);
    expect(checkable.filter((q) => !defined.has(q))).toEqual([]);
  });

  withInitrd("posts the early command's event with d-i's own busybox (sh, awk, nc) as the webhook takes it", async () => {
    const root = fromInitrd('bin/busybox');
    const bin = join(scratch, 'bin');
    mkdirSync(bin, { recursive: true });
    for (const applet of ['sh', 'awk', 'nc']) symlinkSync(join(root, 'bin/busybox'), join(bin, applet));
    const received: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c));
      req.on('end', () => {
        received.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":true}');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as { port: number };
      const out = await renderExample(`http://127.0.0.1:${port}/webhook/52-54-00-12-36-01/t0k3n`);
      const answers = new Map(parsePreseed(out.preseed!).map((a) => [a.question, a.value]));
      for (const hook of ['preseed/early_command', 'preseed/late_command']) {
        // as d-i runs it: sh -c "$RET"
        const child = spawn(join(bin, 'sh'), ['-c', answers.get(hook)!], { env: { PATH: bin }, stdio: 'ignore' });
        const [code] = (await once(child, 'exit')) as [number];
        expect(code).toBe(0);
      }
      expect(received.map((r) => [r.method, r.url, r.headers['content-type']])).toEqual([
        ['POST', '/webhook/52-54-00-12-36-01/t0k3n', 'application/json'],
        ['POST', '/webhook/52-54-00-12-36-01/t0k3n', 'application/json'],
      ]);
      const events = received.map((r) => checkInstallerEvent(JSON.parse(r.body)));
      expect(events.map((e) => ('event' in e ? e.event : e))).toEqual([
        { name: 'debian-installer/install', event_type: 'start', origin: 'preseed', description: 'the Debian installer has loaded its preseed file' },
        { name: 'debian-installer/install', event_type: 'finish', result: 'SUCCESS', origin: 'preseed', description: 'the Debian installer has finished the installation' },
      ]);
    } finally {
      server.close();
    }
  });
});
