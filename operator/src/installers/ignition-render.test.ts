// The ignition kind through the whole render (the real sandboxed worker): examples/flatcar rendered for its host is
// valid for the REAL ignition-validate (Debian package `ignition`), and what anvil refuses at render time the real
// validator refuses too. The ubuntu-autoinstall output keeps its shape and content hash.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { AutoinstallTemplateSpec, BareMetalHost } from '@anvil/core/api';
import { anvilURLs, host, lookupOf, PASSWORD_HASH, ROOT } from '../../../test/fixtures/render.js';
import { canonicalJson, resolveTemplate, sha256Hex } from '../render/chain.js';
import { RenderError } from '../render/errors.js';
import { renderBootConfig, type RenderBootConfigInput } from '../render/render.js';
import { ProcessRenderer } from '../render/renderer.js';
import { REPORT_UNIT_NAME } from './ignition-report-unit.js';

const IGNITION_VALIDATE = '/usr/bin/ignition-validate';
const haveValidator = existsSync(IGNITION_VALIDATE);
if (!haveValidator) console.warn(`${IGNITION_VALIDATE} not found (Debian package "ignition", installed by scripts/setup.sh): the Ignition configs are checked by anvil's validator only`);
const withValidator = haveValidator ? it : it.skip;

const renderer = new ProcessRenderer();
const scratch = mkdtempSync(join(tmpdir(), 'anvil-ignition-'));
afterAll(async () => {
  await renderer.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** The real validator's verdict on a config: exit status and what it printed. */
function ignitionValidate(config: string): { ok: boolean; output: string } {
  const file = join(scratch, `config-${Math.random().toString(36).slice(2)}.ign`);
  writeFileSync(file, config);
  const run = spawnSync(IGNITION_VALIDATE, [file], { encoding: 'utf8' });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

const CONFIG_URL = 'http://boot.anvil.internal:8080/ignition/52-54-00-ab-cd-01/t0k3n/config.ign';
const urls = { ...anvilURLs(), ignitionURL: CONFIG_URL };

function input(templates: Record<string, AutoinstallTemplateSpec>, name: string, overrides: Partial<RenderBootConfigInput> = {}): RenderBootConfigInput {
  return { host: host({ templateRef: { name } }), template: resolveTemplate(name, lookupOf(templates)), install: { revision: 1, attempt: 1 }, anvil: urls, secrets: { passwordHash: PASSWORD_HASH }, ...overrides };
}

const BOOT = { kernel: { url: 'http://m/k', sha256: 'a'.repeat(64) }, initrd: { url: 'http://m/i', sha256: 'b'.repeat(64) } };
const ignitionTemplate = (ignition: string): AutoinstallTemplateSpec => ({ installer: 'ignition', boot: BOOT, ignition });

async function failure(promise: Promise<unknown>): Promise<RenderError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(RenderError);
    return err as RenderError;
  }
  throw new Error('expected the render to fail');
}

describe('examples/flatcar', () => {
  const dir = join(ROOT, 'examples', 'flatcar');
  const objects = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec: unknown; stringData?: Record<string, string> }));
  const templates = Object.fromEntries(objects.filter((o) => o.kind === 'AutoinstallTemplate').map((o) => [o.metadata.name, o.spec as AutoinstallTemplateSpec]));
  const hosts = objects.filter((o) => o.kind === 'BareMetalHost') as unknown as BareMetalHost[];
  const secret = objects.find((o) => o.kind === 'Secret')!;

  it('has an ignition template and a host', () => {
    expect(Object.values(templates).map((t) => t.installer)).toEqual(['ignition']);
    expect(hosts).toHaveLength(1);
  });

  it('renders for its host into a config with the password hashed, the report unit and the Flatcar PXE kernel arguments', async () => {
    const h = hosts[0]!;
    const out = await renderBootConfig(
      { host: { ...h, metadata: { ...h.metadata, namespace: 'metal' } }, template: resolveTemplate(h.spec.templateRef!.name, lookupOf(templates)), install: { revision: 1, attempt: 1 }, anvil: urls, secrets: { password: secret.stringData!.password! } },
      { renderer },
    );
    expect(out.installer).toBe('ignition');
    expect(out.userData).toBe('');
    const config = JSON.parse(out.ignition!) as { passwd: { users: { passwordHash: string }[] }; storage: { files: { contents: { source: string } }[] }; systemd: { units: { name: string }[] } };
    expect(config.passwd.users[0]!.passwordHash).toMatch(/^\$6\$/);
    expect(out.ignition).not.toContain(secret.stringData!.password!);
    expect(config.storage.files[0]!.contents.source).toBe('data:,flatcar-01');
    expect(config.systemd.units.map((u) => u.name)).toEqual(['docker.service', REPORT_UNIT_NAME]);
    expect(out.kernelArgs).toBe(`console=tty0 console=ttyS0,115200n8 ignition.config.url=${CONFIG_URL} ignition.platform.id=metal flatcar.first_boot=1`);
    if (haveValidator) expect(ignitionValidate(out.ignition!)).toEqual({ ok: true, output: '' });
  });
});

describe('rendering for the ignition installer', () => {
  withValidator('serves what the real ignition-validate accepts, for JSON templates too', async () => {
    const json = `{"ignition": {"version": "3.0.0"}, "passwd": {"users": [{"name": "core", "passwordHash": {{ passwordHash | json }}, "sshAuthorizedKeys": ["ssh-ed25519 AAAA a@b"]}]}}`;
    const out = await renderBootConfig(input({ flatcar: ignitionTemplate(json) }, 'flatcar', { secrets: { passwordHash: PASSWORD_HASH } }), { renderer });
    expect(ignitionValidate(out.ignition!)).toEqual({ ok: true, output: '' });
  });

  // each of these is refused by anvil before publishing, and by the real validator
  const refused: [string, string, RegExp][] = [
    ['an unsupported version', '{"ignition": {"version": "3.9.0"}}', /ignition\.version: "3\.9\.0" is not a supported Ignition config version/],
    ['a relative file path', '{"ignition": {"version": "3.3.0"}, "storage": {"files": [{"path": "etc/motd"}]}}', /storage\.files\[0\]\.path: must be an absolute path/],
    ['a unit name without its type', '{"ignition": {"version": "3.3.0"}, "systemd": {"units": [{"name": "docker", "enabled": true}]}}', /systemd\.units\[0\]\.name: must be a systemd unit name/],
    ['a wrong type', '{"ignition": {"version": "3.3.0"}, "systemd": {"units": [{"name": "a.service", "enabled": "yes"}]}}', /systemd\.units\[0\]\.enabled: must be of type boolean/],
    ['bad JSON', '{"ignition": {"version": "3.3.0"},}', /ignition: rendered line 1, column \d+: invalid JSON/],
  ];
  it.each(refused)('refuses %s with the field and path in the message', async (_what, source, message) => {
    const err = await failure(renderBootConfig(input({ bad: ignitionTemplate(source) }, 'bad'), { renderer }));
    expect(err.kind).toBe('validation');
    expect(err.message).toMatch(message);
    if (haveValidator) expect(ignitionValidate(source).ok).toBe(false);
  });

  it('refuses a chain that mixes installers, and fields or an ISO the kind does not use', async () => {
    const chain = await failure(
      Promise.resolve().then(() => resolveTemplate('overlay', lookupOf({ base: { userData: '#cloud-config\n', boot: BOOT }, overlay: { extends: 'base', installer: 'ignition', ignition: '{}' } }))),
    );
    expect(chain.message).toBe('template "overlay" is for installer ignition but "base" in its extends chain is for ubuntu-autoinstall: a chain renders for one installer');
    const unused = await failure(renderBootConfig(input({ t: { ...ignitionTemplate('{}'), userData: '#cloud-config\n', boot: { ...BOOT, iso: BOOT.kernel } } }, 't'), { renderer }));
    expect(unused.message).toBe('the chain t is for installer ignition, which does not use userData, boot.iso: remove them or set spec.installer');
    const missing = await failure(renderBootConfig(input({ t: { installer: 'ignition', boot: BOOT } }, 't'), { renderer }));
    expect(missing.message).toBe('no template in the chain t sets ignition');
  });

  it('keeps the ubuntu-autoinstall output and its content hash as they were before installer kinds', async () => {
    const userData = `#cloud-config\nautoinstall:\n  version: 1\n  identity: {hostname: node-01, username: u, password: "${PASSWORD_HASH}"}\n`;
    for (const spec of [{ boot: BOOT, userData }, { installer: 'ubuntu-autoinstall' as const, boot: BOOT, userData }]) {
      const out = await renderBootConfig(input({ u: spec }, 'u'), { renderer });
      expect(out.installer).toBeUndefined();
      expect(out.ignition).toBeUndefined();
      const { userData: u, metaData, kernelArgs, boot } = out;
      expect(out.contentHash).toBe(`sha256:${sha256Hex(canonicalJson({ userData: u, metaData, kernelArgs, boot }))}`);
    }
  });
});

it('has ignition-validate print its version (the binary the tests above ran)', () => {
  if (!haveValidator) return;
  expect(execFileSync(IGNITION_VALIDATE, ['--version'], { encoding: 'utf8' })).toMatch(/^Ignition /);
});
