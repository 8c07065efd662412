// End to end: the example templates rendered for a host, validated against anvil's autoinstall schema and the
// official one.
import { existsSync, readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import type { AutoinstallTemplateSpec } from '@anvil/core/api';
import { anvilURLs, fixtureTemplates, host, loadTemplate, lookupOf, OFFICIAL_AUTOINSTALL_SCHEMA, PASSWORD_HASH } from '../../../test/fixtures/render.js';
import { autoinstallSchema } from './autoinstall-schema.js';
import { resolveTemplate } from './chain.js';
import { RenderError } from './errors.js';
import { passwordSalt } from './password-salts.js';
import { renderBootConfig, type RenderBootConfigInput } from './render.js';
import { ProcessRenderer } from './renderer.js';
import { sha512Crypt } from './sha512-crypt.js';

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

/** The quickstart's Secret holds the password itself; its template hashes it with password_hash. */
const QUICKSTART_PASSWORD = 'change-me';
const EXAMPLE_SECRETS = { passwordHash: PASSWORD_HASH, password: QUICKSTART_PASSWORD };

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
    const out = await renderBootConfig(input(templates, name, { secrets: EXAMPLE_SECRETS }), { renderer });
    expect(out.userData.startsWith('#cloud-config\n')).toBe(true);
    const autoinstall = (parse(out.userData, { version: '1.1' }) as { autoinstall: Record<string, unknown> }).autoinstall;
    expect(autoinstall).toMatchObject({
      version: 1,
      identity: { hostname: 'node-01', username: 'ubuntu' },
      reporting: { anvil: { type: 'webhook', endpoint: anvilURLs().webhookURL } },
    });
    // the fixture's Secret holds a hash, the quickstart's the password (hashed by password_hash)
    const password = (autoinstall.identity as { password: string }).password;
    if (password !== PASSWORD_HASH) expect(sha512Crypt(QUICKSTART_PASSWORD, password.split('$')[2]!)).toBe(password);
    expect(out.userData).not.toContain(QUICKSTART_PASSWORD);
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
        const out = await renderBootConfig(input(templates, name, { secrets: EXAMPLE_SECRETS }), { renderer });
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
    const out = await renderBootConfig(input(templates, 'q', { host: host({ networkConfig }), install: { revision: 1, attempt: 4 }, secrets: EXAMPLE_SECRETS }), { renderer });
    expect(out.kernelArgs).toBe(`ip=dhcp console=ttyS0,115200 autoinstall ds=nocloud-net;s=${anvilURLs().seedURL}/ url=${anvilURLs().assets.iso}`);
    expect(parse(out.metaData)).toEqual({ 'instance-id': 'node-01-1-4', 'local-hostname': 'node-01' });
    expect(parse(out.networkConfig!)).toEqual(networkConfig);
    expect(out.vendorData).toBeUndefined();
  });

  it("gives anvil's reporter the operator's webhook retries (curtin's), so an event survives a boot-server restart", async () => {
    const out = await renderBootConfig(input(fixtureTemplates(), 'ubuntu-2404-web', { anvil: { ...anvilURLs(), webhookRetries: [1, 2, 4, 8] } }), { renderer });
    const autoinstall = (parse(out.userData, { version: '1.1' }) as { autoinstall: { reporting: unknown } }).autoinstall;
    expect(autoinstall.reporting).toEqual({ anvil: { type: 'webhook', endpoint: anvilURLs().webhookURL, retries: [1, 2, 4, 8] } });
  });

  it('hashes the content deterministically; the hash follows what the host receives', async () => {
    const a = await renderBootConfig(input(fixtureTemplates(), 'ubuntu-2404-web'), { renderer });
    const b = await renderBootConfig(input(fixtureTemplates(), 'ubuntu-2404-web'), { renderer });
    const c = await renderBootConfig(input(fixtureTemplates(), 'ubuntu-2404-web', { host: host({ variables: { timezone: 'Asia/Tokyo' } }) }), { renderer });
    expect(b.contentHash).toBe(a.contentHash);
    expect(c.contentHash).not.toBe(a.contentHash);
  });
});

describe('renderBootConfig with password_hash', () => {
  const PASSWORD = 'Tr0ub4dor&3-correct-horse';
  const templates = (identityPassword: string, extra: Partial<AutoinstallTemplateSpec> = {}): Record<string, AutoinstallTemplateSpec> => ({
    t: {
      ...fixtureTemplates()['ubuntu-2404-base']!,
      extends: undefined,
      userData: `#cloud-config
autoinstall:
  version: 1
  identity:
    hostname: {{ host.hostname | yaml }}
    username: admin
    password: ${identityPassword}
  user-data:
    users:
      - {name: root, passwd: {{ creds.root | password_hash | yaml }}}
`,
      ...extra,
    },
  });
  const withPassword = (overrides: Partial<RenderBootConfigInput> = {}): Partial<RenderBootConfigInput> => ({
    host: host({
      secretRefs: [
        { name: 'node-01-credentials', key: 'password', variable: 'adminPassword' },
        { name: 'node-01-root', variable: 'creds' },
      ],
    }),
    secrets: { adminPassword: PASSWORD, creds: { root: 'root-Pa55word' } },
    passwordSaltKey: 'installation-1',
    ...overrides,
  });
  const identityOf = (userData: string) => (parse(userData, { version: '1.1' }) as { autoinstall: { identity: { password: string } } }).autoinstall.identity.password;

  it('publishes the SHA-512 crypt hash of a Secret\'s password, never the password', async () => {
    const out = await renderBootConfig(input(templates('{{ adminPassword | password_hash | yaml }}'), 't', withPassword()), { renderer });
    const hash = identityOf(out.userData);
    expect(hash).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    // the hash is of the password, with the salt anvil derived for this Secret and attempt
    expect(sha512Crypt(PASSWORD, hash.split('$')[2]!)).toBe(hash);
    expect(hash.split('$')[2]).toBe(passwordSalt('installation-1', 'metal/node-01\u0000node-01-credentials\u0000password'));
    const everything = JSON.stringify(out);
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain('root-Pa55word');
  });

  it('hashes the same for a re-render of the attempt, and with a new salt for another attempt', async () => {
    const tpl = templates('{{ adminPassword | password_hash | yaml }}');
    const first = await renderBootConfig(input(tpl, 't', withPassword()), { renderer });
    const again = await renderBootConfig(input(tpl, 't', withPassword()), { renderer });
    const next = await renderBootConfig(input(tpl, 't', withPassword({ passwordSaltKey: 'installation-2' })), { renderer });
    expect(again.userData).toBe(first.userData);
    expect(again.contentHash).toBe(first.contentHash);
    expect(identityOf(next.userData)).not.toBe(identityOf(first.userData));
    expect(identityOf(next.userData).split('$')[2]).not.toBe(identityOf(first.userData).split('$')[2]);
  });

  it('refuses to hash a password written in the template or the variables, without showing it', async () => {
    const err = await failure(renderBootConfig(input(templates('{{ "in-the-template" | password_hash | yaml }}'), 't', withPassword()), { renderer }));
    expect(err.kind).toBe('render');
    expect(err.problems[0]).toMatchObject({ field: 'userData', line: 7, message: expect.stringMatching(/^password_hash: the password does not come from a Secret/) });
    expect(err.message).not.toContain('in-the-template');
  });

  it('refuses a plain-text password the template writes itself, naming the field and the fix', async () => {
    const err = await failure(renderBootConfig(input(templates('{{ adminPassword | yaml }}'), 't', withPassword()), { renderer }));
    expect(err.kind).toBe('validation');
    expect(err.problems).toEqual([
      { field: 'userData', line: 7, path: 'autoinstall.identity.password', message: expect.stringContaining('{{ <variable> | password_hash | yaml }}') },
    ]);
    expect(err.message).not.toContain(PASSWORD);
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
    expect(err.problems).toEqual([{ field: 'userData', line: 11, path: 'autoinstall.identity.password', message: expect.stringMatching(/^is a plain-text password, which anvil never publishes: .*\| password_hash \|/) }]);

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
