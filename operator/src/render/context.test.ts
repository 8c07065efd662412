import { anvilURLs, host, PASSWORD_HASH } from '../../../test/fixtures/render.js';
import { buildRenderContext, hostContext, maskSecrets, RESERVED_VARIABLES } from './context.js';
import type { RenderError } from './errors.js';
import { renderErrorOf } from './testing/render-error.js';

const install = { revision: 3, attempt: 2 };

const contextError = (fn: () => unknown): RenderError => renderErrorOf('context', fn);

describe('hostContext', () => {
  it('describes the host, MAC in lower case with colons and dashes', () => {
    expect(hostContext(host())).toEqual({
      name: 'node-01',
      namespace: 'metal',
      labels: { role: 'worker' },
      annotations: { 'example.com/rack': 'r1' },
      mac: '52:54:00:ab:cd:01',
      macDashed: '52-54-00-ab-cd-01',
      architecture: 'amd64',
      bootMode: 'UEFI',
      hostname: 'node-01',
    });
  });

  it('defaults hostname to the object name, architecture and boot mode to the CRD defaults', () => {
    const h = host();
    h.metadata = { name: 'n2' };
    h.spec = { bootMACAddress: 'AA:BB:CC:DD:EE:FF' };
    expect(hostContext(h)).toMatchObject({ name: 'n2', namespace: '', hostname: 'n2', architecture: 'amd64', bootMode: 'UEFI', labels: {}, annotations: {} });
  });
});

describe('buildRenderContext', () => {
  it('merges defaults < host variables (deeply) < secrets, next to host, install and anvil', () => {
    const ctx = buildRenderContext({
      host: host({ variables: { timezone: 'Europe/Paris', disk: { size: 'largest' } } }),
      defaults: { timezone: 'Etc/UTC', locale: 'en_US.UTF-8', disk: { match: 'ssd', size: 'smallest' }, passwordHash: 'from-defaults' },
      install,
      anvil: anvilURLs(),
      secrets: { passwordHash: PASSWORD_HASH },
    });
    expect(ctx).toMatchObject({
      timezone: 'Europe/Paris',
      locale: 'en_US.UTF-8',
      disk: { match: 'ssd', size: 'largest' },
      passwordHash: PASSWORD_HASH,
      install: { revision: 3, attempt: 2 },
      anvil: { seedURL: 'http://boot.anvil.internal:8080/nocloud/metal/node-01/t0k3n' },
      host: { mac: '52:54:00:ab:cd:01', hostname: 'node-01' },
    });
  });

  it('exposes a secretRef without key as an object of all the Secret\'s keys', () => {
    const ctx = buildRenderContext({
      host: host({ secretRefs: [{ name: 'keys', variable: 'ssh' }] }),
      defaults: {},
      install,
      anvil: anvilURLs(),
      secrets: { ssh: { id_ed25519: 'private', 'id_ed25519.pub': 'public' } },
    });
    expect(ctx.ssh).toEqual({ id_ed25519: 'private', 'id_ed25519.pub': 'public' });
  });

  it.each(RESERVED_VARIABLES.map((name) => [name]))('refuses the reserved name %s in defaults, host variables and secretRefs', (name) => {
    const err = contextError(() =>
      buildRenderContext({
        host: host({ variables: { [name]: 1 }, secretRefs: [{ name: 's', key: 'k', variable: name }] }),
        defaults: { [name]: {} },
        install,
        anvil: anvilURLs(),
        secrets: { [name]: 'x' },
      }),
    );
    expect(err.problems.map((p) => p.message)).toEqual([
      `template defaults set "${name}", a reserved name (anvil provides ${name}.*)`,
      `spec.variables of the host sets "${name}", a reserved name (anvil provides ${name}.*)`,
      `a secretRef uses the variable name "${name}", a reserved name (anvil provides ${name}.*)`,
    ]);
  });

  it('refuses a secretRef without a value', () => {
    const err = contextError(() => buildRenderContext({ host: host(), defaults: {}, install, anvil: anvilURLs(), secrets: {} }));
    expect(err.message).toBe('no value for secretRef "passwordHash" (Secret "node-01-credentials", key "password-hash")');
  });
});

describe('maskSecrets', () => {
  it('masks values, their JSON/YAML escaped and base64 forms, longest first', () => {
    const key = '-----BEGIN KEY-----\nAAAAB3NzaC1yc2EAAAADAQAB\n"quoted"\n-----END KEY-----';
    const secrets = { passwordHash: PASSWORD_HASH, token: 'abc', keys: { private: key } };
    const text = [
      `password: "${PASSWORD_HASH}"`,
      `content: ${JSON.stringify(key)}`,
      `encoded: ${Buffer.from('abc').toString('base64')}`,
      `block: |\n  ${key.split('\n').join('\n  ')}`,
      'token=abc&abcd',
    ].join('\n');
    const masked = maskSecrets(text, secrets);
    expect(masked).toBe(
      [
        'password: "<secret:passwordHash>"',
        'content: "<secret:keys.private>"',
        'encoded: <secret:token>',
        'block: |\n  <secret:keys.private>\n  <secret:keys.private>\n  <secret:keys.private>\n  <secret:keys.private>',
        'token=<secret:token>&<secret:token>d',
      ].join('\n'),
    );
    for (const value of [PASSWORD_HASH, 'AAAAB3NzaC1yc2EAAAADAQAB']) expect(masked).not.toContain(value);
  });

  it('accepts a plain list of values and ignores empty ones', () => {
    expect(maskSecrets('a s3cret b', ['s3cret', ''])).toBe('a <secret:secret> b');
    expect(maskSecrets('nothing', {})).toBe('nothing');
  });
});
