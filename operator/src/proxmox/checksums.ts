// Checksum files as distributions publish them, and the image file names PVE's download-url accepts.
//   GNU coreutils (sha256sum):  <hex>  <file>   or  <hex> *<file>       (Ubuntu SHA256SUMS, Debian SHA512SUMS, Arch .SHA256)
//   BSD / RPM (sha256sum --tag): SHA256 (<file>) = <hex>                  (Fedora/Rocky/CentOS CHECKSUM, .SHA256SUM)
//   bare:                        <hex>                                    (some per-file .sha256/.sha512)
// Fedora's CHECKSUM is PGP clear-signed and CentOS/Rocky add "# <file>: <size> bytes" comments; both are skipped.

export type HashAlgorithm = 'sha256' | 'sha512';

export interface ChecksumEntry {
  /** The file the line names; undefined for a bare hash. */
  fileName?: string;
  algorithm: HashAlgorithm;
  /** Lower-case hex. */
  value: string;
  style: 'gnu' | 'bsd' | 'bare';
}

export class ChecksumError extends Error {
  /** transient: the checksum could not be read (network, 5xx); retrying may help. Otherwise the source is wrong. */
  constructor(message: string, readonly transient = false) {
    super(message);
    this.name = 'ChecksumError';
  }
}

const HEX_LENGTH: Record<HashAlgorithm, number> = { sha256: 64, sha512: 128 };

/** sha256 for 64 hex digits, sha512 for 128; undefined otherwise. */
export function algorithmForHex(hex: string): HashAlgorithm | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  return hex.length === 64 ? 'sha256' : hex.length === 128 ? 'sha512' : undefined;
}

const GNU = /^([0-9A-Fa-f]{64}|[0-9A-Fa-f]{128}) [ *]?(.+)$/;
const BSD = /^(SHA256|SHA512|SHA-256|SHA-512) ?\((.+)\) ?= ?([0-9A-Fa-f]+)$/i;
const BARE = /^([0-9A-Fa-f]{64}|[0-9A-Fa-f]{128})$/;

/** Every checksum line of a checksum file, in order. Lines that are not checksums are ignored. */
export function parseChecksumFile(text: string): ChecksumEntry[] {
  const entries: ChecksumEntry[] = [];
  let inSignature = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('-----BEGIN PGP SIGNATURE')) inSignature = true;
    if (line.startsWith('-----END PGP SIGNATURE')) {
      inSignature = false;
      continue;
    }
    if (!line || inSignature || line.startsWith('#') || line.startsWith('-----') || /^Hash: /i.test(line)) continue;
    let m = BSD.exec(line);
    if (m) {
      const algorithm = m[1]!.toLowerCase().replace('-', '') as HashAlgorithm;
      if (m[3]!.length === HEX_LENGTH[algorithm]) entries.push({ fileName: m[2]!, algorithm, value: m[3]!.toLowerCase(), style: 'bsd' });
      continue;
    }
    m = GNU.exec(line);
    if (m) {
      entries.push({ fileName: m[2]!.replace(/^\.\//, ''), algorithm: algorithmForHex(m[1]!)!, value: m[1]!.toLowerCase(), style: 'gnu' });
      continue;
    }
    m = BARE.exec(line);
    if (m) entries.push({ algorithm: algorithmForHex(m[1]!)!, value: m[1]!.toLowerCase(), style: 'bare' });
  }
  return entries;
}

export interface FindChecksumOptions {
  algorithm: HashAlgorithm;
  /**
   * A per-file checksum (image.qcow2.sha256): its single entry counts whatever file name it states, because
   * "latest" symlinks are published with a checksum file naming the versioned file.
   */
  perFile?: boolean;
  /** For the error message: where the text came from. */
  source?: string;
}

/** The expected checksum of `fileName` in a checksum file; throws ChecksumError with a clear message. */
export function findChecksum(text: string, fileName: string, options: FindChecksumOptions): string {
  const where = options.source ? ` in ${options.source}` : '';
  const entries = parseChecksumFile(text).filter((e) => e.algorithm === options.algorithm);
  if (entries.length === 0) throw new ChecksumError(`no ${options.algorithm} checksum found${where}`);
  const named = entries.filter((e) => e.fileName === fileName || e.fileName?.split('/').pop() === fileName);
  if (named.length > 0) {
    const values = new Set(named.map((e) => e.value));
    if (values.size > 1) throw new ChecksumError(`${fileName} is listed with different ${options.algorithm} checksums${where}`);
    return named[0]!.value;
  }
  if (options.perFile || (entries.length === 1 && entries[0]!.style === 'bare')) {
    const values = new Set(entries.map((e) => e.value));
    if (values.size === 1) return entries[0]!.value;
    throw new ChecksumError(`the per-file checksum${where} holds ${values.size} different checksums and none names ${fileName}`);
  }
  throw new ChecksumError(`${fileName} is not listed${where} (it lists ${entries.length} files)`);
}

const COMPRESSED = /\.(xz|gz|bz2|zst|zstd|lz4|lzma|zip|tgz|7z)$/i;
const IMPORTABLE = /\.(qcow2|raw|vmdk)$/i;

/** The file name part of a URL (query and fragment dropped, percent-decoding applied). */
export function urlFileName(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    throw new ChecksumError(`"${url}" is not a valid URL`);
  }
  const name = decodeURIComponent(path.split('/').pop() ?? '');
  if (!name) throw new ChecksumError(`the URL ${url} does not end in a file name`);
  return name;
}

/**
 * The file name to download an image as into an `import` storage. PVE accepts only .qcow2, .raw, .vmdk (and .ova)
 * there: `.img` (Ubuntu's cloud images are qcow2 with an .img name) becomes `.qcow2`, compressed images are refused
 * because download-url does not decompress for import, characters PVE does not take become `_`. A tag (e.g. the
 * first digits of the checksum) goes before the extension so a new upstream version gets a new file name: PVE
 * refuses to overwrite an existing file.
 */
export function importFileName(url: string, tag?: string): string {
  const name = urlFileName(url);
  if (COMPRESSED.test(name)) {
    throw new ChecksumError(
      `${name} is compressed (${name.match(COMPRESSED)![0]}); Proxmox cannot import compressed images through download-url: use the URL of an uncompressed qcow2 or raw image`,
    );
  }
  let base: string;
  let ext: string;
  if (IMPORTABLE.test(name)) {
    ext = name.match(IMPORTABLE)![0].toLowerCase();
    base = name.slice(0, -ext.length);
  } else if (/\.img$/i.test(name)) {
    ext = '.qcow2';
    base = name.slice(0, -4);
  } else {
    throw new ChecksumError(`${name} is not a disk image PVE can import: the name must end in .qcow2, .img, .raw or .vmdk`);
  }
  const safeTag = tag ? `-${tag.replace(/[^A-Za-z0-9._-]/g, '_')}` : '';
  return `${base.replace(/[^A-Za-z0-9._+-]/g, '_')}${safeTag}${ext}`;
}
