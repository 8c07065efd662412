import { existsSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { OFFICIAL_AUTOINSTALL_SCHEMA, PASSWORD_HASH } from '../../../test/fixtures/render.js';
import { RenderError, type RenderProblem } from './errors.js';
import { cryptHashProblem, isCryptHash, processMetaData, processNetworkConfig, processUserData, processVendorData } from './nocloud.js';

const WEBHOOK = 'http://boot.anvil.internal:8080/hosts/metal/node-01/events?token=t0k3n';

const userData = (body: string, { password = PASSWORD_HASH } = {}) =>
  `#cloud-config
autoinstall:
  version: 1
  identity:
    hostname: node-01
    username: ubuntu
    password: ${JSON.stringify(password)}
${body}`;

function problemsOf(fn: () => unknown): RenderProblem[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RenderError);
    expect((err as RenderError).kind).toBe('validation');
    return [...(err as RenderError).problems];
  }
  throw new Error('expected a validation error');
}

/** Every documented section, as an autoinstall user would write it. */
const EVERY_SECTION = `  interactive-sections: []
  early-commands:
    - echo early
    - [sh, -c, 'echo "as a list"']
  locale: en_US.UTF-8
  refresh-installer:
    update: yes
    channel: latest/edge
  keyboard:
    layout: us,gr
    variant: ",simple"
    toggle: alt_shift_toggle
  source:
    id: ubuntu-server-minimal
    search_drivers: false
  network:
    version: 2
    ethernets:
      id0:
        match: {macaddress: "52:54:00:ab:cd:01"}
        dhcp4: true
  proxy: http://172.16.90.1:3128
  apt:
    preserve_sources_list: false
    mirror-selection:
      primary:
        - country-mirror
        - uri: http://archive.ubuntu.com/ubuntu
          arches: [i386, amd64]
    fallback: abort
    geoip: true
    sources:
      my-ppa:
        source: ppa:example/ppa
  storage:
    layout:
      name: lvm
      sizing-policy: all
      match:
        ssd: true
        size: largest
  active-directory:
    admin-name: $ubuntu
    domain-name: ad.example.com
  ubuntu-pro:
    token: C1NWcZTHLteJXGVMM6YhvHDpGrhyy7
  ssh:
    install-server: true
    authorized-keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 admin@example"]
    allow-pw: false
  codecs: {install: false}
  drivers: {install: true}
  oem: {install: auto}
  snaps:
    - name: etcd
      channel: 3.5/stable
      classic: false
  debconf-selections: |
    openssh-server openssh-server/permit-root-login boolean true
  packages: [nginx, "dns-server^"]
  kernel: {flavor: hwe}
  kernel-crash-dumps: {enabled: null}
  timezone: Europe/Berlin
  updates: all
  shutdown: poweroff
  late-commands:
    - curtin in-target -- apt-get update
  error-commands:
    - tar -czf /installer-logs.tar.gz /var/log/installer/
  reporting:
    builtin: {type: print}
    central: {type: rsyslog, destination: "@192.168.0.1"}
  user-data:
    disable_root: false
  zdevs:
    - {id: 0.0.1507, enabled: true}
`;

describe('processUserData', () => {
  it('adds the reporting webhook, keeping the header, comments and formatting', () => {
    const { text, autoinstall } = processUserData(`\n\n${userData('  # storage as the base has it\n  storage: {layout: {name: lvm}}\n')}`, WEBHOOK);
    expect(text).toBe(`${userData('  # storage as the base has it\n  storage: { layout: { name: lvm } }\n')}  reporting:
    anvil:
      type: webhook
      endpoint: ${WEBHOOK}
`);
    expect(autoinstall.reporting).toEqual({ anvil: { type: 'webhook', endpoint: WEBHOOK } });
  });

  it('keeps the reporters the user configured and replaces one named anvil', () => {
    const { autoinstall } = processUserData(
      userData('  reporting:\n    builtin: {type: print}\n    anvil: {type: webhook, endpoint: "http://elsewhere/"}\n'),
      WEBHOOK,
    );
    expect(autoinstall.reporting).toEqual({ builtin: { type: 'print' }, anvil: { type: 'webhook', endpoint: WEBHOOK } });
    expect(processUserData(userData('  reporting:\n'), WEBHOOK).autoinstall.reporting).toEqual({ anvil: { type: 'webhook', endpoint: WEBHOOK } });
  });

  it("gives anvil's reporter curtin's retries, so an event posted while the boot-server restarts is retried", () => {
    const { text, autoinstall } = processUserData(userData(''), WEBHOOK, [1, 2, 4]);
    expect(autoinstall.reporting).toEqual({ anvil: { type: 'webhook', endpoint: WEBHOOK, retries: [1, 2, 4] } });
    expect(text).toContain(`    anvil:\n      type: webhook\n      endpoint: ${WEBHOOK}\n      retries:\n        - 1\n        - 2\n        - 4\n`);
    const replaced = processUserData(userData('  reporting:\n    anvil: {type: webhook, endpoint: "http://elsewhere/", retries: [600]}\n'), WEBHOOK, [5]);
    expect(replaced.autoinstall.reporting).toEqual({ anvil: { type: 'webhook', endpoint: WEBHOOK, retries: [5] } });
    expect(processUserData(userData(''), WEBHOOK, []).autoinstall.reporting).toEqual({ anvil: { type: 'webhook', endpoint: WEBHOOK } });
  });

  it('refuses a reporter whose retries are not a list of seconds', () => {
    expect(() => processUserData(userData('  reporting:\n    mine: {type: webhook, endpoint: "http://x/", retries: 3}\n'), WEBHOOK)).toThrow(/retries/);
  });

  it('accepts every documented section, read as YAML 1.1 like cloud-init', () => {
    const { autoinstall } = processUserData(userData(EVERY_SECTION), WEBHOOK);
    expect((autoinstall['refresh-installer'] as { update: unknown }).update).toBe(true);
  });

  it('accepts user-data instead of identity', () => {
    const text = '#cloud-config\nautoinstall:\n  version: 1\n  user-data:\n    users: [{name: ubuntu, passwd: "' + PASSWORD_HASH + '"}]\n';
    expect(processUserData(text, WEBHOOK).autoinstall['user-data']).toBeDefined();
  });

  it('refuses a plain-text password, without quoting it', () => {
    const problems = problemsOf(() => processUserData(userData('', { password: 'hunter2' }), WEBHOOK));
    expect(problems).toEqual([
      {
        field: 'userData',
        line: 7,
        path: 'autoinstall.identity.password',
        message: expect.stringMatching(/^is a plain-text password, which anvil never publishes: put the password in a Secret .*password_hash/),
      },
    ]);
    expect(JSON.stringify(problems)).not.toContain('hunter2');
  });

  it('refuses plain-text passwords in user-data users too', () => {
    const text = '#cloud-config\nautoinstall:\n  version: 1\n  user-data:\n    users:\n      - {name: a, plain_text_passwd: x}\n      - {name: b, passwd: hunter2}\n';
    expect(problemsOf(() => processUserData(text, WEBHOOK)).map((p) => [p.path, p.line])).toEqual([
      ['autoinstall.user-data.users[0].plain_text_passwd', 6],
      ['autoinstall.user-data.users[1].passwd', 7],
    ]);
  });

  it('refuses plain-text passwords of the installer session (top level) and of chpasswd in user-data, with their lines', () => {
    const text = `#cloud-config
password: hunter2
autoinstall:
  version: 1
  user-data:
    chpasswd:
      list:
        - "root:hunter2"
      users:
        - {name: ubuntu, password: hunter2, type: text}
`;
    const problems = problemsOf(() => processUserData(text, WEBHOOK));
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ['password', 2],
      ['autoinstall.user-data.chpasswd.list[0]', 8],
      ['autoinstall.user-data.chpasswd.users[0].password', 10],
    ]);
    expect(JSON.stringify(problems)).not.toContain('hunter2');
  });

  it('refuses schema violations with their path and line', () => {
    const problems = problemsOf(() =>
      processUserData(userData('  ssh:\n    install-server: maybe\n').replace('version: 1', 'version: 2').replace('username: ubuntu', 'username: ubuntu\n    shell: /bin/zsh'), WEBHOOK),
    );
    expect(problems.map(({ path, line, message }) => ({ path, line, message }))).toEqual([
      { path: 'autoinstall.version', line: 3, message: 'must be 1' },
      { path: 'autoinstall.identity', line: 7, message: 'unknown key "shell" (allowed: realname, username, hostname, password, groups)' },
      { path: 'autoinstall.ssh.install-server', line: 10, message: 'must be of type boolean' },
    ]);
  });

  it('refuses unknown top-level keys and misplaced sections', () => {
    expect(problemsOf(() => processUserData(userData('  late_commands: [echo]\n'), WEBHOOK)).map((p) => [p.path, p.message])).toEqual([
      ['autoinstall', 'unknown key "late_commands"'],
    ]);
  });

  it('needs #cloud-config, YAML, an autoinstall mapping and identity or user-data', () => {
    expect(problemsOf(() => processUserData('autoinstall:\n  version: 1\n', WEBHOOK))[0]!.message).toBe('user-data must start with the line "#cloud-config"');
    expect(problemsOf(() => processUserData('#cloud-config\nautoinstall: [\n', WEBHOOK))[0]).toMatchObject({ line: 3, message: expect.stringMatching(/^invalid YAML: /) });
    expect(problemsOf(() => processUserData('#cloud-config\nversion: 1\n', WEBHOOK))[0]).toMatchObject({ path: 'autoinstall', message: expect.stringMatching(/^missing/) });
    expect(problemsOf(() => processUserData('#cloud-config\nautoinstall: 1\n', WEBHOOK))[0]).toMatchObject({ path: 'autoinstall', message: 'must be a mapping' });
    expect(problemsOf(() => processUserData('#cloud-config\nautoinstall:\n  version: 1\n', WEBHOOK))).toEqual([
      { field: 'userData', line: 3, path: 'autoinstall', message: 'needs an identity section (or user-data that creates a user)' },
    ]);
  });

  it('refuses duplicate keys without quoting the document', () => {
    const problems = problemsOf(() => processUserData(userData(`  identity:\n    password: ${JSON.stringify(PASSWORD_HASH)}\n`), WEBHOOK));
    expect(problems).toEqual([{ field: 'userData', line: 8, column: 3, message: 'invalid YAML: Map keys must be unique' }]);
    expect(JSON.stringify(problems)).not.toContain(PASSWORD_HASH);
  });

  it('refuses interactive sections, which would silence the reporting webhook', () => {
    expect(problemsOf(() => processUserData(userData('  interactive-sections: [network]\n'), WEBHOOK))[0]).toMatchObject({
      path: 'autoinstall.interactive-sections',
      message: expect.stringMatching(/^must be empty/),
    });
  });

  it('refuses alias bombs', () => {
    const bomb = '  user-data:\n    a: &a [x, x, x, x, x, x, x, x, x, x]\n    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n    d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n';
    expect(problemsOf(() => processUserData(userData(bomb), WEBHOOK))[0]!.message).toMatch(/^invalid YAML: Excessive alias count/);
  });
});

describe('our autoinstall schema and the official one', () => {
  const officialPresent = existsSync(OFFICIAL_AUTOINSTALL_SCHEMA);
  (officialPresent ? it : it.skip)(
    `agree that every documented section is valid${officialPresent ? '' : ` (skipped: ${OFFICIAL_AUTOINSTALL_SCHEMA} not found)`}`,
    () => {
      const official = new Ajv({ strict: false, validateFormats: false, allErrors: true }).compile(JSON.parse(readFileSync(OFFICIAL_AUTOINSTALL_SCHEMA, 'utf8')));
      const { autoinstall } = processUserData(userData(EVERY_SECTION), WEBHOOK);
      expect(official(autoinstall) ? [] : official.errors).toEqual([]);
    },
  );
});

describe('cryptHashProblem', () => {
  it('accepts the crypt(3) formats mkpasswd and openssl produce', () => {
    for (const hash of [
      PASSWORD_HASH,
      '$6$rounds=5000$saltsalt$' + 'a'.repeat(86),
      '$5$saltsalt$' + 'b'.repeat(43),
      '$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7',
      '$2b$12$' + 'c'.repeat(53),
      '$1$saltsalt$' + 'd'.repeat(22),
    ]) {
      expect([hash, cryptHashProblem(hash)]).toEqual([hash, undefined]);
    }
  });

  it('refuses plain text and malformed hashes', () => {
    expect(isCryptHash('ubuntu')).toBe(false);
    expect(isCryptHash('$6$short$abc')).toBe(false);
    expect(cryptHashProblem('$6$short$abc')).toBe('looks like a $6$ (SHA-512) crypt(3) hash but is malformed');
    expect(isCryptHash('')).toBe(false);
  });
});

describe('processMetaData', () => {
  const defaults = { instanceId: 'node-01-3-1', hostname: 'node-01' };

  it('serves instance-id and local-hostname when the template has no meta-data', () => {
    expect(parse(processMetaData(undefined, defaults))).toEqual({ 'instance-id': 'node-01-3-1', 'local-hostname': 'node-01' });
    expect(parse(processMetaData('  \n', defaults))).toEqual({ 'instance-id': 'node-01-3-1', 'local-hostname': 'node-01' });
  });

  it('adds instance-id when missing and keeps the rest', () => {
    expect(parse(processMetaData('local-hostname: n1 # comment\n', defaults))).toEqual({ 'local-hostname': 'n1', 'instance-id': 'node-01-3-1' });
    expect(parse(processMetaData('# only a comment\n', defaults))).toEqual({ 'instance-id': 'node-01-3-1' });
    const own = 'instance-id: node-01-3\nlocal-hostname: node-01\n';
    expect(processMetaData(own, defaults)).toBe(own);
  });

  it('refuses anything but a mapping with a non-empty instance-id', () => {
    expect(problemsOf(() => processMetaData('- a\n', defaults))[0]).toEqual({ field: 'metaData', message: 'meta-data must be a YAML mapping' });
    expect(problemsOf(() => processMetaData('instance-id: ""\n', defaults))[0]).toMatchObject({ path: 'instance-id' });
  });
});

describe('processNetworkConfig', () => {
  const netplan = 'network:\n  version: 2\n  ethernets:\n    id0:\n      dhcp4: true\n';

  it('serves the rendered netplan, with or without the network: key', () => {
    expect(processNetworkConfig(netplan)).toBe(netplan);
    expect(processNetworkConfig('version: 2\nethernets: {eth0: {dhcp4: true}}\n')).toBeDefined();
    expect(processNetworkConfig(undefined)).toBeUndefined();
    expect(processNetworkConfig('\n')).toBeUndefined();
  });

  it("prefers the host's spec.networkConfig", () => {
    const host = { version: 2, ethernets: { eno1: { addresses: ['10.0.0.5/24'] } } };
    expect(parse(processNetworkConfig(netplan, host)!)).toEqual(host);
    expect(problemsOf(() => processNetworkConfig(undefined, { version: 1 }))[0]).toMatchObject({ path: 'version', message: 'must be 2 (netplan version 2)' });
  });

  it('refuses other versions and malformed netplan, with the line', () => {
    expect(problemsOf(() => processNetworkConfig('network:\n  version: 1\n  config: []\n'))).toEqual([
      { field: 'networkConfig', line: 2, path: 'network.version', message: 'must be 2 (netplan version 2)' },
    ]);
    expect(problemsOf(() => processNetworkConfig('version: 2\nethernets: [eth0]\n'))).toEqual([
      { field: 'networkConfig', line: 2, path: 'ethernets', message: 'must be of type object' },
    ]);
  });
});

describe('processVendorData', () => {
  it('serves non-empty vendor-data, checking #cloud-config YAML', () => {
    expect(processVendorData(undefined)).toBeUndefined();
    expect(processVendorData(' ')).toBeUndefined();
    expect(processVendorData('#cloud-config\npackages: ["nginx"]\n')).toBe('#cloud-config\npackages: ["nginx"]\n');
    expect(processVendorData('#!/bin/sh\necho hi\n')).toBe('#!/bin/sh\necho hi\n');
    expect(problemsOf(() => processVendorData('#cloud-config\n- a\n'))[0]).toMatchObject({ field: 'vendorData' });
  });

  it('refuses a #cloud-config vendor-data with a plain-text password, with its path and line', () => {
    const problems = problemsOf(() => processVendorData('#cloud-config\npackages: [nginx]\nchpasswd:\n  users:\n    - {name: root, password: hunter2, type: text}\n'));
    expect(problems).toEqual([
      { field: 'vendorData', line: 5, path: 'chpasswd.users[0].password', message: expect.stringMatching(/^is a plain-text password \(type: text\)/) },
    ]);
    expect(JSON.stringify(problems)).not.toContain('hunter2');
  });
});
