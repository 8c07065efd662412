// End to end: the example templates rendered for a host, validated against anvil's autoinstall schema and the
// official one.
import { existsSync, readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import type { AutoinstallTemplateSpec } from '../../../shared/src/api/index.js';
import { anvilURLs, fixtureTemplates, host, loadTemplate, lookupOf, OFFICIAL_AUTOINSTALL_SCHEMA, PASSWORD_HASH } from '../../../test/fixtures/render.js';
import { autoinstallSchema } from './autoinstall-schema.js';
import { resolveTemplate } from './chain.js';
import { RenderError } from './errors.js';
import { renderBootConfig, type RenderBootConfigInput } from './render.js';
import { ProcessRenderer } from './renderer.js';

const renderer = new ProcessRenderer();
afterAll(() => renderer.close());

const OFFICIAL = existsSync(OFFICIAL_AUTOINSTALL_SCHEMA)
  ? new Ajv({ strict: false, validateFormats: false, allErrors: true }).compile(JSON.parse(readFileSync(OFFICIAL_AUTOINSTALL_SCHEMA, 'utf8')))
  : undefined;
const OURS = new Ajv({ strict: false, allErrors: true }).compile(autoinstallSchema);

function valid(validate: ValidateFunction, data: unknown): unknown[] {
  return validate(data) ? [] : (validate.errors ?? []);
}

function input(templates: Record<string, AutoinstallTemplateSpec>, name: string, overrides: Partial<RenderBootConfigInput> = {}): RenderBootConfigInput {
  return {
    host: host(),
    template: resolveTemplate(name, lookupOf(templates)),
    install: { revision: 1, attempt: 1 },
    anvil: anvilURLs(),
    secrets: { passwordHash: PASSWORD_HASH },
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<RenderError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(RenderError);
    return err as RenderError;
  }
  throw new Error('expected the render to fail');
}

const examples: [string, Record<string, AutoinstallTemplateSpec>, string][] = [
  ['the fixture base + web overlay (test/fixtures/crds/valid)', fixtureTemplates(), 'ubuntu-2404-web'],
  [
    'the quickstart example (examples/quickstart)',
    { 'ubuntu-2404': loadTemplate('examples', 'quickstart', 'autoinstalltemplate.yaml').spec },
    'ubuntu-2404',
  ],
];

describe('renderBootConfig with the example templates', () => {
  it.each(examples)('renders %s into a valid installer configuration', async (_name, templates, name) => {
    const out = await renderBootConfig(input(templates, name), { renderer });
    expect(out.userData.startsWith('#cloud-config\n')).toBe(true);
    const autoinstall = (parse(out.userData, { version: '1.1' }) as { autoinstall: Record<string, unknown> }).autoinstall;
    expect(autoinstall).toMatchObject({
      version: 1,
      identity: { hostname: 'node-01', username: 'ubuntu', password: PASSWORD_HASH },
      reporting: { anvil: { type: 'webhook', endpoint: anvilURLs().webhookURL } },
    });
    expect(valid(OURS, autoinstall)).toEqual([]);
    if (OFFICIAL) expect(valid(OFFICIAL, autoinstall)).toEqual([]);
    expect(out.kernelArgs).toContain(`autoinstall ds=nocloud-net;s=${anvilURLs().seedURL}/`);
    expect(out.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  (OFFICIAL ? it : it.skip)(
    `validates against the official autoinstall schema${OFFICIAL ? '' : ` (skipped: ${OFFICIAL_AUTOINSTALL_SCHEMA} not found)`}`,
    async () => {
      // the official schema accepts what ours accepts for these examples, and refuses what it refuses
      for (const [, templates, name] of examples) {
        const out = await renderBootConfig(input(templates, name), { renderer });
        const { autoinstall } = parse(out.userData, { version: '1.1' }) as { autoinstall: Record<string, unknown> };
        expect(valid(OFFICIAL!, autoinstall)).toEqual([]);
        expect(valid(OFFICIAL!, { ...autoinstall, version: 2 })).not.toEqual([]);
        expect(valid(OURS, { ...autoinstall, version: 2 })).not.toEqual([]);
      }
    },
  );

  it('renders every file of the overlay chain for the host', async () => {
    const out = await renderBootConfig(input(fixtureTemplates(), 'ubuntu-2404-web', { install: { revision: 3, attempt: 2 } }), { renderer });
    const autoinstall = (parse(out.userData, { version: '1.1' }) as { autoinstall: Record<string, unknown> }).autoinstall;
    // overlay defaults win over the base's; the include's defaults are there
    expect(autoinstall).toMatchObject({ timezone: 'Europe/Berlin', locale: 'en_US.UTF-8', keyboard: { layout: 'us' } });
    expect((autoinstall.ssh as { 'authorized-keys': string[] })['authorized-keys']).toEqual([expect.stringMatching(/^ssh-ed25519 /)]);
    expect(parse(out.metaData)).toEqual({ 'instance-id': 'node-01-3', 'local-hostname': 'node-01' });
    expect(parse(out.networkConfig!)).toEqual({ network: { version: 2, ethernets: { id0: { match: { macaddress: '52:54:00:ab:cd:01' }, dhcp4: true } } } });
    expect(out.vendorData).toBe('#cloud-config\npackages: ["nginx"]\n');
    // url= is the template's own (anvil.assets.iso); anvil adds its arguments before ---
    expect(out.kernelArgs).toBe(
      `ip=dhcp url=${anvilURLs().assets.iso} console=ttyS0,115200 autoinstall ds=nocloud-net;s=${anvilURLs().seedURL}/ ---`,
    );
    expect(out.boot).toEqual({
      kernel: fixtureTemplates()['ubuntu-2404-base']!.boot!.kernel,
      initrd: fixtureTemplates()['ubuntu-2404-base']!.boot!.initrd,
      iso: fixtureTemplates()['ubuntu-2404-base']!.boot!.iso,
    });
    expect(out.templateChain).toEqual(['ubuntu-2404-base', 'ubuntu-2404-web']);
  });

  it('adds url= for the ISO, meta-data, and takes the host network-config, for the quickstart example', async () => {
    const templates = { q: { ...examples[1]![1]['ubuntu-2404']!, boot: { ...examples[1]![1]['ubuntu-2404']!.boot, iso: fixtureTemplates()['ubuntu-2404-base']!.boot!.iso } } };
    const networkConfig = { version: 2, ethernets: { eno1: { dhcp4: true } } };
    const out = await renderBootConfig(input(templates, 'q', { host: host({ networkConfig }), install: { revision: 1, attempt: 4 } }), { renderer });
    expect(out.kernelArgs).toBe(`ip=dhcp console=ttyS0,115200 autoinstall ds=nocloud-net;s=${anvilURLs().seedURL}/ url=${anvilURLs().assets.iso}`);
    expect(parse(out.metaData)).toEqual({ 'instance-id': 'node-01-1-4', 'local-hostname': 'node-01' });
    expect(parse(out.networkConfig!)).toEqual(networkConfig);
    expect(out.vendorData).toBeUndefined();
  });

  it('hashes the content deterministically; the hash follows what the host receives', async () => {
    const a = await renderBootConfig(input(fixtureTemplates(), 'ubuntu-2404-web'), { renderer });
    const b = await renderBootConfig(input(fixtureTemplates(), 'ubuntu-2404-web'), { renderer });
    const c = await renderBootConfig(input(fixtureTemplates(), 'ubuntu-2404-web', { host: host({ variables: { timezone: 'Asia/Tokyo' } }) }), { renderer });
    expect(b.contentHash).toBe(a.contentHash);
    expect(c.contentHash).not.toBe(a.contentHash);
  });
});

describe('renderBootConfig errors', () => {
  it('names the undefined variable and the file', async () => {
    const templates = fixtureTemplates();
    const err = await failure(renderBootConfig(input(templates, 'ubuntu-2404-web', { host: host({ secretRefs: [] }), secrets: {} }), { renderer }));
    expect(err.kind).toBe('render');
    expect(err.problems).toEqual([
      { field: 'userData', template: 'ubuntu-2404-base/userData', line: 11, column: 33, message: 'yaml: undefined variable "passwordHash"' },
    ]);
  });

  it('refuses a plain-text password and a schema violation, with their paths', async () => {
    const err = await failure(renderBootConfig(input(fixtureTemplates(), 'ubuntu-2404-web', { secrets: { passwordHash: 'ubuntu' } }), { renderer }));
    expect(err.kind).toBe('validation');
    expect(err.problems).toEqual([{ field: 'userData', line: 11, path: 'autoinstall.identity.password', message: expect.stringMatching(/^must be a crypt\(3\) password hash/) }]);

    const templates = fixtureTemplates();
    templates['ubuntu-2404-base'] = { ...templates['ubuntu-2404-base'], userData: templates['ubuntu-2404-base']!.userData!.replace('username: ubuntu', 'username: ubuntu\n    shell: /bin/zsh') };
    const schema = await failure(renderBootConfig(input(templates, 'ubuntu-2404-web'), { renderer }));
    expect(schema.message).toBe(
      'userData: rendered line 11: autoinstall.identity: unknown key "shell" (allowed: realname, username, hostname, password, groups)',
    );
  });

  it('reports a syntax error with its line', async () => {
    const templates = fixtureTemplates();
    templates['ubuntu-2404-web'] = { ...templates['ubuntu-2404-web'], vendorData: '#cloud-config\npackages: {{ packages | json }\n' };
    const err = await failure(renderBootConfig(input(templates, 'ubuntu-2404-web'), { renderer }));
    expect(err.kind).toBe('render');
    expect(err.problems[0]).toMatchObject({ field: 'vendorData', template: 'ubuntu-2404-web/vendorData', line: 2 });
  });

  it('never shows a secret value in an error', async () => {
    const templates = fixtureTemplates();
    // a template that tries to leak the secret through an error message
    templates['ubuntu-2404-web'] = { ...templates['ubuntu-2404-web'], vendorData: '{% include passwordHash %}' };
    const err = await failure(renderBootConfig(input(templates, 'ubuntu-2404-web'), { renderer }));
    expect(err.message).toContain('<secret:passwordHash>');
    expect(err.message).not.toContain(PASSWORD_HASH);
    expect(JSON.stringify(err.problems)).not.toContain(PASSWORD_HASH);
  });

  it('refuses reserved variable names', async () => {
    const err = await failure(renderBootConfig(input(fixtureTemplates(), 'ubuntu-2404-web', { host: host({ variables: { anvil: 'mine' } }) }), { renderer }));
    expect(err.kind).toBe('context');
    expect(err.message).toBe('spec.variables of the host sets "anvil", a reserved name (anvil provides anvil.*)');
  });

  it('needs a kernel, an initrd and a userData in the chain', async () => {
    const err = await failure(renderBootConfig(input({ t: { metaData: 'x: 1' } }, 't'), { renderer }));
    expect(err.kind).toBe('validation');
    expect(err.message).toBe('no template in the chain t sets boot.kernel, boot.initrd, userData');
  });

  it('reports render limits as such', async () => {
    const templates = fixtureTemplates();
    templates['ubuntu-2404-web'] = { ...templates['ubuntu-2404-web'], vendorData: '{% for i in range(0, 100000) %}{% for j in range(0, 100000) %}{% endfor %}{% endfor %}' };
    expect((await failure(renderBootConfig(input(templates, 'ubuntu-2404-web'), { renderer, limits: { timeoutMs: 200 } }))).kind).toBe('timeout');
    expect((await failure(renderBootConfig(input(fixtureTemplates(), 'ubuntu-2404-web'), { renderer, limits: { maxOutputBytes: 1000 } }))).kind).toBe('output-limit');
  });
});
