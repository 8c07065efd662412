// No password is ever published in clear, through the real operator on a real kube-apiserver: a template that would
// serve a plain-text password (in any form cloud-init or subiquity accepts) ends with a status message naming the
// field and the fix and no boot config at all; a template that hashes a Secret's password with password_hash
// publishes only its SHA-512 crypt hash, the same hash when the attempt is rendered again, a new salt for a new
// attempt, and the password appears in no Secret, status or event anvil writes.
import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { anvilCrds, type BareMetalHost } from '@anvil/core/api';
import { bootConfigSecretName, fromSecret, type BootConfig } from '@anvil/core/bootconfig';
import { CoreResources, type KubeClient, type KubeObject, type ResourceType } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { defaultRenderer } from '@anvil/operator/src/render/renderer.js';
import { sha512Crypt } from '@anvil/operator/src/render/sha512-crypt.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import { HostType, postEvent, recordBoot, subiquityEvents } from '../harness/installer-sim.js';

jest.setTimeout(240_000);

type Host = BareMetalHost & KubeObject;
type SecretObject = KubeObject & { data?: Record<string, string> };
const TemplateType: ResourceType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'AutoinstallTemplate', plural: 'autoinstalltemplates', namespaced: true };
const ns = 'passwords';
/** Fresh each run, so a match can only come from this run. */
const PASSWORD = `pw-${randomBytes(9).toString('base64url')}`;
const ROOT_PASSWORD = `root-${randomBytes(9).toString('base64url')}`;

function template(name: string, userData: string, vendorData?: string): KubeObject {
  return {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'AutoinstallTemplate',
    metadata: { name, namespace: ns },
    spec: {
      boot: {
        kernel: { url: 'http://127.0.0.1:9/ubuntu/vmlinuz', sha256: 'a'.repeat(64) },
        initrd: { url: 'http://127.0.0.1:9/ubuntu/initrd', sha256: 'b'.repeat(64) },
      },
      userData,
      ...(vendorData !== undefined ? { vendorData } : {}),
    },
  };
}

/** A user-data whose identity.password is `password` and whose autoinstall section ends with `extra`. */
const userData = (password: string, extra = '') => `#cloud-config
autoinstall:
  version: 1
  early-commands:
    - {{ ("echo rack " ~ (host.labels.rack | default("none"))) | yaml }}
  identity:
    hostname: {{ host.hostname | yaml }}
    username: admin
    password: ${password}
${extra}`;

function host(name: string, mac: string, templateName: string): KubeObject {
  return {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name, namespace: ns, labels: { rack: 'r1' } },
    spec: {
      bootMACAddress: mac,
      hostname: name,
      templateRef: { name: templateName },
      secretRefs: [
        { name: 'admin-credentials', key: 'password', variable: 'adminPassword' },
        { name: 'admin-credentials', variable: 'creds' },
      ],
      provisioning: { revision: 1, maxRetries: 1, timeoutSeconds: 3600 },
    },
  };
}

describe('passwords on a real API server', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let manager: Manager;

  const getHost = async (name: string) => (await client.get<Host>(HostType, { namespace: ns, name }))!;
  const bootConfigSecret = (name: string) => client.get<SecretObject>(CoreResources.secret, { namespace: ns, name: bootConfigSecretName(name) });
  const bootConfig = async (name: string): Promise<BootConfig | undefined> => {
    const s = await bootConfigSecret(name);
    return s ? fromSecret(s) : undefined;
  };
  const waitHost = async (name: string, what: string, ok: (h: Host) => boolean): Promise<Host> => {
    try {
      return await waitFor(`${name}: ${what}`, async () => {
        const h = await getHost(name);
        return ok(h) ? h : undefined;
      }, 60_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}; host status: ${JSON.stringify((await getHost(name)).status)}`);
    }
  };
  const identityPassword = (config: BootConfig): string => /^ {4}password: "?([^"\n]+)"?$/m.exec(config.install!.userData)![1]!;
  /** Everything anvil wrote that a password could leak into: the boot config Secrets, host statuses, events. */
  const everythingWritten = async (): Promise<string> => {
    const secrets = (await client.list<SecretObject>(CoreResources.secret, { namespace: ns })).items.filter((s) => s.metadata.name !== 'admin-credentials');
    const decoded = secrets.map((s) => ({ ...s, data: Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) }));
    const hosts = (await client.list<Host>(HostType, { namespace: ns })).items;
    const events = (await client.list(CoreResources.event, { namespace: ns })).items;
    return JSON.stringify({ secrets, decoded, hosts, events });
  };

  beforeAll(async () => {
    cp = await startControlPlane();
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, ns);
    await client.create(CoreResources.secret, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'admin-credentials', namespace: ns },
      stringData: { password: PASSWORD, root: ROOT_PASSWORD },
    });
    manager = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'test', namespaces: [ns] });
    registerControllers(manager, { maxConcurrentReconciles: 2, log: silentLogger(), bootServerURL: 'http://10.0.0.2:8080', retryBaseMs: 1000 });
    await manager.start();
  });

  afterAll(async () => {
    await manager?.stop();
    // the operator's render worker process
    await defaultRenderer().close();
    await cp?.stop();
  });

  it('refuses every form of plain-text password with the field and the fix in status, and publishes no boot config', async () => {
    const cases: [name: string, template: KubeObject, path: string][] = [
      // the Secret's password put in as is: the filter was forgotten
      ['identity', template('identity', userData('{{ adminPassword | yaml }}')), 'autoinstall.identity.password'],
      [
        'chpasswd-text',
        template(
          'chpasswd-text',
          userData('{{ adminPassword | password_hash | yaml }}', '  user-data:\n    chpasswd:\n      users:\n        - {name: root, password: {{ creds.root | yaml }}, type: text}\n'),
        ),
        'autoinstall.user-data.chpasswd.users[0].password',
      ],
      [
        'chpasswd-list',
        template('chpasswd-list', userData('{{ adminPassword | password_hash | yaml }}', '  user-data:\n    chpasswd:\n      list: ["root:{{ creds.root }}"]\n')),
        'autoinstall.user-data.chpasswd.list[0]',
      ],
      [
        'plain-text-passwd',
        template('plain-text-passwd', userData('{{ adminPassword | password_hash | yaml }}', '  user-data:\n    users:\n      - {name: root, plain_text_passwd: {{ creds.root | yaml }}}\n')),
        'autoinstall.user-data.users[0].plain_text_passwd',
      ],
      // the installer session's own cloud-config, at the top level of the user-data
      [
        'session',
        template('session', userData('{{ adminPassword | password_hash | yaml }}').replace('#cloud-config\n', '#cloud-config\npassword: {{ creds.root | yaml }}\n')),
        'password',
      ],
      ['vendor', template('vendor', userData('{{ adminPassword | password_hash | yaml }}'), '#cloud-config\npassword: {{ creds.root | yaml }}\n'), 'password'],
    ];
    for (const [, tpl] of cases) await client.create(TemplateType, tpl);
    for (const [i, [name]] of cases.entries()) await client.create(HostType, host(`plain-${name}`, `52:54:00:00:09:${String(10 + i)}`, name));

    for (const [name, , path] of cases) {
      const h = await waitHost(`plain-${name}`, 'refused', (x) => !!x.status?.errorMessage);
      expect(h.status?.state).toBe('Pending');
      expect(h.status?.errorType).toBe('ValidationError');
      const ready = h.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready).toMatchObject({ status: 'False', reason: 'InvalidInstallerConfig' });
      // the field, and the fix
      expect(h.status?.errorMessage).toContain(`${path}: `);
      expect(h.status?.errorMessage).toContain("put the password in a Secret referenced by the host's spec.secretRefs and write {{ <variable> | password_hash | yaml }}");
      expect(h.status?.errorMessage).toMatch(name === 'vendor' ? /^vendorData: rendered line \d+: password: / : /^userData: rendered line \d+: /);
      expect(await bootConfigSecret(`plain-${name}`)).toBeUndefined();
    }
    const written = await everythingWritten();
    expect(written).not.toContain(PASSWORD);
    expect(written).not.toContain(ROOT_PASSWORD);
  });

  it('publishes only the hash of a Secret password: the same hash when the attempt renders again, a new salt for the next attempt', async () => {
    await client.create(TemplateType, template('hashed', userData('{{ adminPassword | password_hash | yaml }}', '  user-data:\n    users:\n      - {name: root, passwd: {{ creds.root | password_hash | yaml }}}\n')));
    await client.create(HostType, host('hashed-01', '52:54:00:00:09:01', 'hashed'));
    let h = await waitHost('hashed-01', 'waiting for its machine', (x) => x.status?.state === 'Provisioning');
    const first = h.status!.currentInstall!;
    const published = await waitFor('boot config', async () => {
      const c = await bootConfig('hashed-01');
      return c?.mode === 'install' && c.install?.installationId === first.installationId ? c : undefined;
    });

    // only SHA-512 crypt hashes of the passwords, with 16-character salts, are served
    const hash = identityPassword(published);
    const [, id, salt] = hash.split('$');
    expect([id, salt]).toEqual(['6', expect.stringMatching(/^[./0-9A-Za-z]{16}$/)]);
    expect(sha512Crypt(PASSWORD, salt!)).toBe(hash);
    const rootHash = /passwd: "(\$6\$[^"]+)"/.exec(published.install!.userData)![1]!;
    expect(sha512Crypt(ROOT_PASSWORD, rootHash.split('$')[2]!)).toBe(rootHash);
    expect(rootHash.split('$')[2]).not.toBe(salt);
    let written = await everythingWritten();
    expect(written).not.toContain(PASSWORD);
    expect(written).not.toContain(ROOT_PASSWORD);

    // a change to the host renders the attempt again: the same attempt, token and password hash
    await client.patch(HostType, { namespace: ns, name: 'hashed-01' }, 'merge', { metadata: { labels: { rack: 'r2' } } });
    const again = await waitFor('boot config rendered again', async () => {
      const c = await bootConfig('hashed-01');
      return c?.install?.userData.includes('echo rack r2') ? c : undefined;
    });
    expect(again.install!.installationId).toBe(first.installationId);
    expect(again.install!.token).toBe(published.install!.token);
    expect(identityPassword(again)).toBe(hash);
    expect(again.install!.userData).toContain(rootHash);

    // the attempt fails; the retry is a new attempt, salted anew
    await recordBoot(client, ns, 'hashed-01');
    await waitHost('hashed-01', 'Installing', (x) => x.status?.state === 'Installing');
    for (const e of subiquityEvents('FAIL')) await postEvent(client, ns, 'hashed-01', first.installationId!, e);
    h = await waitHost('hashed-01', 'attempt 2', (x) => x.status?.state === 'Provisioning' && x.status.currentInstall?.attempt === 2);
    const second = await waitFor('attempt 2 boot config', async () => {
      const c = await bootConfig('hashed-01');
      return c?.mode === 'install' && c.install?.installationId === h.status!.currentInstall!.installationId ? c : undefined;
    });
    const nextHash = identityPassword(second);
    expect(nextHash).not.toBe(hash);
    expect(nextHash.split('$')[2]).not.toBe(salt);
    expect(sha512Crypt(PASSWORD, nextHash.split('$')[2]!)).toBe(nextHash);
    written = await everythingWritten();
    expect(written).not.toContain(PASSWORD);
    expect(written).not.toContain(ROOT_PASSWORD);
  });
});
