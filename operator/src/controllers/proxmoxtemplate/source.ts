// Where the image of a ProxmoxTemplate comes from and what its checksum must be: a catalog distribution (whose
// checksum file is read each time upstream is checked), an explicit URL with the checksum value, or an explicit URL
// with a checksum-file URL.
import type { ProxmoxTemplate } from '@anvil/core/api';
import { catalogEntry, resolveCatalogChecksum, unknownDistributionMessage, type FetchText } from '../../proxmox/catalog.js';
import { algorithmForHex, ChecksumError, findChecksum, importFileName, urlFileName, type HashAlgorithm } from '../../proxmox/checksums.js';

export interface ResolvedImage {
  url: string;
  checksum: string;
  algorithm: HashAlgorithm;
  /** The distribution release (the catalog entry's version, or spec.source.release), when known. */
  release?: string;
}

/** The release a catalog name carries: ubuntu-24.04 -> 24.04, opensuse-leap-15.6 -> 15.6, rocky-9 -> 9. */
export const catalogRelease = (distribution: string): string | undefined => /-(\d+(?:\.\d+)*)$/.exec(distribution)?.[1];

/** Resolves spec.source. Throws ChecksumError: `transient` when a checksum file could not be read, else a user error. */
export async function resolveImage(t: ProxmoxTemplate, fetchText: FetchText): Promise<ResolvedImage> {
  const source = t.spec.source;
  if (source.distribution) {
    const entry = catalogEntry(source.distribution);
    if (!entry) throw new ChecksumError(unknownDistributionMessage(source.distribution));
    const { value, algorithm } = await resolveCatalogChecksum(entry, fetchText);
    const release = catalogRelease(entry.name);
    return { ...checked({ url: entry.imageUrl, checksum: value, algorithm }), ...(release ? { release } : {}) };
  }
  if (!source.url || !source.checksum) throw new ChecksumError('spec.source needs either distribution, or url and checksum');
  const algorithm: HashAlgorithm = source.checksum.algorithm ?? 'sha256';
  if (source.checksum.value) {
    const value = source.checksum.value.toLowerCase();
    if (algorithmForHex(value) !== algorithm) {
      throw new ChecksumError(`spec.source.checksum.value has ${value.length} hex digits, which is not a ${algorithm} checksum`);
    }
    return withRelease(checked({ url: source.url, checksum: value, algorithm }), source.release);
  }
  const checksumUrl = source.checksum.url!;
  let text: string;
  try {
    text = await fetchText(checksumUrl);
  } catch (err) {
    throw new ChecksumError(`cannot read the checksum file ${checksumUrl}: ${(err as Error).message}`, true);
  }
  // A checksum file next to the image (image.qcow2.sha256) counts whatever name it states ("latest" links).
  const perFile = checksumUrl.startsWith(source.url);
  const value = findChecksum(text, urlFileName(source.url), { algorithm, perFile, source: checksumUrl });
  return withRelease(checked({ url: source.url, checksum: value, algorithm }), source.release);
}

const withRelease = (image: ResolvedImage, release: string | undefined): ResolvedImage => (release ? { ...image, release } : image);

/** Fails early (before any download) for an image PVE cannot import, such as a compressed one. */
function checked(image: ResolvedImage): ResolvedImage {
  importFileName(image.url);
  return image;
}

/** The import volume a build downloads to: the first checksum digits in the name keep upstream versions apart. */
export function importVolumeFor(importStorage: string, image: { url: string; checksum: string }): string {
  return `${importStorage}:import/${importFileName(image.url, image.checksum.slice(0, 12))}`;
}
