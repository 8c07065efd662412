// The rendered files of a host's current boot config, as the machine receives them: the iPXE script and the
// installer's files (NoCloud user-data, meta-data, network-config, vendor-data; Ignition; preseed). Only for a user
// whose RBAC lets them read Secrets in the host's namespace (the boot config is a Secret there, and the files carry
// the values of the host's secretRefs). Even then the attempt's token (in every URL) and password hashes are masked:
// what is shown is for reading, never for replaying.
import { type BootConfig } from '@anvil/core/bootconfig';

export interface RenderedFile {
  name: string;
  content: string;
}

export interface RenderedFilesView {
  mode: BootConfig['mode'];
  /** The attempt the files belong to (install mode). */
  attempt?: number;
  revision?: number;
  template?: { name: string; contentHash: string };
  files: RenderedFile[];
}

export const TOKEN_MASK = '<token>';
export const HASH_MASK = '<password hash>';
/** crypt(3) hashes: $1$ (MD5), $5$/$6$ (SHA-256/512), $y$ (yescrypt), $2a$/$2b$/$2y$ (bcrypt). */
const CRYPT_HASH = /\$(?:1|5|6|y|gy|7|2[aby]?)\$[^\s"'\\]+/g;

export function maskSecrets(text: string, token: string | undefined): string {
  let out = text;
  if (token) out = out.split(token).join(TOKEN_MASK);
  return out.replace(CRYPT_HASH, HASH_MASK);
}

export function renderedFiles(config: BootConfig): RenderedFilesView {
  const token = config.install?.token;
  const i = config.install;
  const files: [string, string | undefined][] = [
    ['boot.ipxe', config.ipxe],
    ['user-data', i?.userData || undefined],
    ['meta-data', i?.metaData || undefined],
    ['network-config', i?.networkConfig],
    ['vendor-data', i?.vendorData],
    ['ignition.json', i?.ignition],
    ['preseed.cfg', i?.preseed],
  ];
  return {
    mode: config.mode,
    ...(i ? { attempt: i.attempt, revision: i.revision } : {}),
    ...(i?.template ? { template: i.template } : {}),
    files: files.filter((f): f is [string, string] => f[1] !== undefined).map(([name, content]) => ({ name, content: maskSecrets(content, token) })),
  };
}
