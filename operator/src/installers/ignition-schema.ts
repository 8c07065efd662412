// The shape of an Ignition config, spec v3.0.0 to v3.4.0 (https://coreos.github.io/ignition/configuration-v3_4/), as
// a JSON schema for anvil's render-time validation. The top level is closed (a misspelt "sytemd" would be ignored by
// Ignition: anvil refuses it); below it, the fields anvil knows are type-checked and others are left to Ignition, so
// that a field of a newer spec minor is not refused. Ignition reads optional fields as pointers: null is accepted.

type Schema = Record<string, unknown>;

const nullable = (type: string): Schema => ({ type: [type, 'null'] });
const str = nullable('string');
const int = nullable('integer');
const bool = nullable('boolean');
const strings: Schema = { type: ['array', 'null'], items: { type: 'string' } };
const object = (properties: Record<string, Schema>, required: string[] = [], description?: string): Schema => ({
  type: 'object',
  ...(description ? { description } : {}),
  properties,
  ...(required.length ? { required } : {}),
});
const list = (items: Schema): Schema => ({ type: ['array', 'null'], items });

const verification = object({ hash: str });
const httpHeaders = list(object({ name: { type: 'string' }, value: str }, ['name']));
const resource = object({ source: str, compression: str, httpHeaders, verification });
const owner = object({ id: int, name: str });
const node = { path: { type: 'string' }, overwrite: bool, user: owner, group: owner };

const ignition = object(
  {
    version: { type: 'string' },
    config: object({ merge: list(resource), replace: resource }),
    proxy: object({ httpProxy: str, httpsProxy: str, noProxy: strings }),
    security: object({ tls: object({ certificateAuthorities: list(resource) }) }),
    timeouts: object({ httpResponseHeaders: int, httpTotal: int }),
  },
  ['version'],
);

const storage = object({
  disks: list(
    object(
      {
        device: { type: 'string' },
        wipeTable: bool,
        partitions: list(object({ label: str, number: int, sizeMiB: int, startMiB: int, typeGuid: str, guid: str, wipePartitionEntry: bool, shouldExist: bool, resize: bool })),
      },
      ['device'],
    ),
  ),
  raid: list(object({ name: { type: 'string' }, level: str, devices: strings, spares: int, options: strings }, ['name'])),
  filesystems: list(
    object(
      { device: { type: 'string' }, format: str, path: str, wipeFilesystem: bool, label: str, uuid: str, options: strings, mountOptions: strings },
      ['device'],
    ),
  ),
  files: list(object({ ...node, contents: resource, append: list(resource), mode: int }, ['path'])),
  directories: list(object({ ...node, mode: int }, ['path'])),
  links: list(object({ ...node, target: str, hard: bool }, ['path'])),
  luks: list(object({ name: { type: 'string' }, device: str, keyFile: resource, label: str, uuid: str, options: strings, wipeVolume: bool }, ['name'])),
});

const systemd = object({
  units: list(
    object({ name: { type: 'string' }, enabled: bool, mask: bool, contents: str, dropins: list(object({ name: { type: 'string' }, contents: str }, ['name'])) }, ['name']),
  ),
});

const passwd = object({
  users: list(
    object(
      {
        name: { type: 'string' },
        passwordHash: str,
        sshAuthorizedKeys: strings,
        uid: int,
        gecos: str,
        homeDir: str,
        noCreateHome: bool,
        primaryGroup: str,
        groups: strings,
        noUserGroup: bool,
        noLogInit: bool,
        shell: str,
        system: bool,
        shouldExist: bool,
      },
      ['name'],
    ),
  ),
  groups: list(object({ name: { type: 'string' }, gid: int, passwordHash: str, system: bool, shouldExist: bool }, ['name'])),
});

export const ignitionSchema: Schema = {
  ...object({ ignition, storage, systemd, passwd, kernelArguments: object({ shouldExist: strings, shouldNotExist: strings }) }, ['ignition']),
  additionalProperties: false,
};
