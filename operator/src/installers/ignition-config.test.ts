// anvil's own validation of a rendered Ignition config: what it accepts (JSON or YAML, spec 3.0.0 to 3.4.0) and what
// it refuses, with the field, path and line in the message and no value quoted from the document.
import { renderErrorOf } from '../render/testing/render-error.js';
import { formatProblem } from '../render/errors.js';
import { readIgnition, SUPPORTED_IGNITION_VERSIONS } from './ignition-config.js';

const HASH = '$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0';
const messages = (text: string): string[] => renderErrorOf('validation', () => readIgnition(text)).problems.map(formatProblem);

describe('readIgnition', () => {
  it('reads JSON and YAML into the same config', () => {
    const json = `{"ignition": {"version": "3.3.0"}, "passwd": {"users": [{"name": "core", "passwordHash": "${HASH}"}]}}`;
    const yaml = `ignition:\n  version: 3.3.0\npasswd:\n  users:\n    - name: core\n      passwordHash: "${HASH}"\n`;
    expect(readIgnition(json)).toEqual(readIgnition(yaml));
    expect(readIgnition(yaml)).toEqual({ ignition: { version: '3.3.0' }, passwd: { users: [{ name: 'core', passwordHash: HASH }] } });
  });

  it.each(SUPPORTED_IGNITION_VERSIONS)('accepts spec %s', (version) => {
    expect(readIgnition(`{"ignition": {"version": "${version}"}}`)).toEqual({ ignition: { version } });
  });

  it('accepts a config with every section the spec has', () => {
    const config = {
      ignition: { version: '3.4.0', config: { merge: [{ source: 'http://x/y.ign' }] }, timeouts: { httpTotal: 30 } },
      kernelArguments: { shouldExist: ['quiet'] },
      storage: {
        disks: [{ device: '/dev/sda', wipeTable: true, partitions: [{ label: 'data', number: 1 }] }],
        filesystems: [{ device: '/dev/disk/by-partlabel/data', format: 'ext4', path: '/var/data', wipeFilesystem: null }],
        files: [{ path: '/etc/motd', mode: 420, contents: { source: 'data:,hi' }, user: { name: 'core' } }],
        directories: [{ path: '/var/data/x', mode: 493 }],
        links: [{ path: '/etc/localtime', target: '/usr/share/zoneinfo/UTC', hard: false }],
      },
      systemd: { units: [{ name: 'a.service', enabled: true, contents: '[Service]\nExecStart=/bin/true\n', dropins: [{ name: 'b.conf', contents: '' }] }] },
      passwd: { users: [{ name: 'core', passwordHash: HASH, sshAuthorizedKeys: ['ssh-ed25519 AAAA x'], groups: ['docker'] }], groups: [{ name: 'ops', gid: 1500 }] },
    };
    expect(readIgnition(JSON.stringify(config, null, 2))).toEqual(config);
  });

  it('refuses bad JSON with its line and column, quoting nothing of the document', () => {
    const got = messages('{\n  "ignition": {"version": "3.3.0"},\n  "passwd": {"users": [{"name": "core" "passwordHash": "s3cr3t-value"}]}\n}');
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^ignition: rendered line 3, column \d+: invalid JSON: /);
    expect(got[0]).not.toContain('s3cr3t-value');
    expect(messages('{"ignition": {"version": "3.3.0"}')[0]).toBe('ignition: rendered line 1, column 34: invalid JSON: expected \',\' or \'}\' after property value');
    expect(messages('{"ignition": ')[0]).toBe('ignition: rendered line 1, column 14: invalid JSON: the document ends too early');
    expect(messages('{"ignition": s3cr3t}')[0]).not.toContain('s3cr3t');
  });

  it('refuses bad YAML with its line, and an empty config or one that is not an object', () => {
    expect(messages('ignition:\n  version: "3.3.0\n')[0]).toMatch(/^ignition: rendered line \d+, column \d+: invalid YAML: /);
    expect(messages('  \n')).toEqual(['ignition: the Ignition config renders empty: it must be a JSON (or YAML) object with ignition.version']);
    expect(messages('[1, 2]')).toEqual(['ignition: rendered line 1: the Ignition config must be a JSON object']);
  });

  it('refuses a missing, unsupported or spec 2 version, naming the supported ones', () => {
    expect(messages('{"storage": {}}')).toEqual(['ignition: rendered line 1: missing required key "ignition"']);
    expect(messages('{"ignition": {}}')).toEqual(['ignition: rendered line 1: ignition: missing required key "version"']);
    expect(messages('{\n"ignition": {\n"version": "3.5.0"}}')).toEqual([
      'ignition: rendered line 3: ignition.version: "3.5.0" is not a supported Ignition config version: anvil serves 3.0.0, 3.1.0, 3.2.0, 3.3.0, 3.4.0',
    ]);
    expect(messages('{"ignition": {"version": "2.3.0"}}')[0]).toContain('spec 2.x configs are for Ignition 0.x');
    expect(messages('{"ignition": {"version": 3}}')).toEqual(['ignition: rendered line 1: ignition.version: must be of type string']);
  });

  it('refuses unknown top-level keys and wrong types, each with its path and line', () => {
    const got = messages(
      ['ignition: {version: 3.3.0}', 'sytemd: {}', 'storage:', '  files:', '    - path: /etc/x', '      mode: "0644"', 'systemd:', '  units:', '    - name: a.service', '      enabled: "yes"'].join('\n'),
    );
    expect(got).toEqual([
      expect.stringMatching(/^ignition: rendered line 2: unknown key "sytemd" \(allowed: ignition, storage, systemd, passwd, kernelArguments\)$/),
      'ignition: rendered line 6: storage.files[0].mode: must be of type integer or null',
      'ignition: rendered line 10: systemd.units[0].enabled: must be of type boolean or null',
    ]);
  });

  it('refuses relative paths, unit names without a type and kernelArguments before spec 3.3.0', () => {
    const got = messages(
      JSON.stringify({
        ignition: { version: '3.2.0' },
        kernelArguments: { shouldExist: ['quiet'] },
        storage: { files: [{ path: 'etc/x' }], directories: [{ path: 'var/y' }], links: [{ path: 'z', target: '/a' }] },
        systemd: { units: [{ name: 'docker' }] },
      }),
    );
    expect(got).toEqual([
      'ignition: rendered line 1: kernelArguments: needs ignition.version 3.3.0 or later (Ignition ignores it in 3.2.0)',
      'ignition: rendered line 1: storage.files[0].path: must be an absolute path',
      'ignition: rendered line 1: storage.directories[0].path: must be an absolute path',
      'ignition: rendered line 1: storage.links[0].path: must be an absolute path',
      'ignition: rendered line 1: systemd.units[0].name: must be a systemd unit name with its type (e.g. example.service, data.mount)',
    ]);
  });

  it('takes passwords only as crypt(3) hashes, for users and groups, quoting neither', () => {
    const got = messages(
      `ignition:\n  version: 3.3.0\npasswd:\n  users:\n    - name: core\n      passwordHash: plain-secret\n  groups:\n    - name: ops\n      passwordHash: "$6$short$abc"\n`,
    );
    expect(got).toHaveLength(2);
    expect(got[0]).toMatch(/^ignition: rendered line 6: passwd\.users\[0\]\.passwordHash: must be a crypt\(3\) password hash .*\| password_hash \| json \}\}/);
    expect(got[1]).toMatch(/^ignition: rendered line 9: passwd\.groups\[0\]\.passwordHash: looks like a \$6\$ \(SHA-512\) crypt\(3\) hash but is malformed/);
    expect(got.join('\n')).not.toContain('plain-secret');
  });
});
