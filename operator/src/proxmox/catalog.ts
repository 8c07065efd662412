// anvil's built-in catalog of distribution cloud images: where each image is published, where its checksum is
// published and in which format, and what the template needs for the image to boot and see its cloud-init drive.
// URLs point at the distributions' own "latest"/"current" names where they publish one, so a new upstream build
// shows up as a new checksum (which builds a new template version). Entries with a pinned checksum (Oracle Linux
// publishes checksums only on a web page) change only when anvil's catalog is updated.
import type { BiosType, CloudInitBus } from '@anvil/core/api';
import { ChecksumError, findChecksum, type HashAlgorithm } from './checksums.js';

/**
 * How the expected checksum is published:
 * - SHA256SUMS / SHA512SUMS: one GNU coreutils-style file for a whole directory (`<hex>  <file>`).
 * - CHECKSUM: the Fedora/RHEL-family file, BSD style (`SHA256 (<file>) = <hex>`), possibly PGP-signed, one per
 *   directory or one per image (`perFile`).
 * - per-file: `<image>.sha256`/`.sha512`/`.SHA256` holding the image's checksum only (GNU style or bare hex).
 * - pinned: the value itself, from a publisher that has no machine-readable checksum file.
 */
export type ChecksumSourceKind = 'SHA256SUMS' | 'SHA512SUMS' | 'CHECKSUM' | 'per-file' | 'pinned';

export type ChecksumSource =
  | { kind: 'SHA256SUMS' | 'SHA512SUMS' | 'CHECKSUM' | 'per-file'; url: string; algorithm: HashAlgorithm; perFile: boolean }
  | { kind: 'pinned'; value: string; algorithm: HashAlgorithm };

export interface CatalogEntry {
  /** Catalog key, used in spec.source.distribution. */
  name: string;
  displayName: string;
  family: 'ubuntu' | 'debian' | 'rhel' | 'fedora' | 'suse' | 'arch' | 'alpine';
  imageUrl: string;
  checksum: ChecksumSource;
  /** Bus of the cloud-init drive that the image's initramfs sees. */
  cloudInitBus: CloudInitBus;
  /** Firmware the image boots with. */
  bios: BiosType;
  /** The image's default login user (cloud-init default_user). */
  defaultUser: string;
  notes: string;
}

const sums = (kind: 'SHA256SUMS' | 'SHA512SUMS', url: string): ChecksumSource => ({
  kind,
  url,
  algorithm: kind === 'SHA256SUMS' ? 'sha256' : 'sha512',
  perFile: false,
});
const checksumFile = (url: string, perFile: boolean): ChecksumSource => ({ kind: 'CHECKSUM', url, algorithm: 'sha256', perFile });
const perFile = (url: string, algorithm: HashAlgorithm): ChecksumSource => ({ kind: 'per-file', url, algorithm, perFile: true });
const pinned = (value: string): ChecksumSource => ({ kind: 'pinned', value, algorithm: 'sha256' });

const ubuntu = (version: string, codename: string): CatalogEntry => ({
  name: `ubuntu-${version}`,
  displayName: `Ubuntu ${version} LTS (${codename})`,
  family: 'ubuntu',
  imageUrl: `https://cloud-images.ubuntu.com/releases/${codename}/release/ubuntu-${version}-server-cloudimg-amd64.img`,
  checksum: sums('SHA256SUMS', `https://cloud-images.ubuntu.com/releases/${codename}/release/SHA256SUMS`),
  cloudInitBus: 'ide',
  bios: 'seabios',
  defaultUser: 'ubuntu',
  notes: 'qcow2 published with an .img name: downloaded as .qcow2 for import. SHA256SUMS lists files as "*<name>".',
});

const debian = (version: string, codename: string): CatalogEntry => ({
  name: `debian-${version}`,
  displayName: `Debian ${version} (${codename})`,
  family: 'debian',
  imageUrl: `https://cloud.debian.org/images/cloud/${codename}/latest/debian-${version}-genericcloud-amd64.qcow2`,
  checksum: sums('SHA512SUMS', `https://cloud.debian.org/images/cloud/${codename}/latest/SHA512SUMS`),
  cloudInitBus: 'ide',
  bios: 'seabios',
  defaultUser: 'debian',
  notes: 'The genericcloud image has cloud drivers only (virtio, no physical hardware); SHA512SUMS only, no SHA256SUMS.',
});

const rocky = (major: string): CatalogEntry => {
  const url = `https://dl.rockylinux.org/pub/rocky/${major}/images/x86_64/Rocky-${major}-GenericCloud-Base.latest.x86_64.qcow2`;
  return {
    name: `rocky-${major}`,
    displayName: `Rocky Linux ${major}`,
    family: 'rhel',
    imageUrl: url,
    checksum: checksumFile(`${url}.CHECKSUM`, true),
    cloudInitBus: 'ide',
    bios: 'seabios',
    defaultUser: 'rocky',
    notes: `Needs an x86-64-v${major === '9' ? '2' : '3'} CPU type (the default x86-64-v2-AES ${major === '9' ? 'works' : 'does not: use host or x86-64-v3'}). The per-image .CHECKSUM is BSD style and names the dated file.`,
  };
};

const alma = (major: string): CatalogEntry => {
  const dir = `https://repo.almalinux.org/almalinux/${major}/cloud/x86_64/images`;
  return {
    name: `almalinux-${major}`,
    displayName: `AlmaLinux ${major}`,
    family: 'rhel',
    imageUrl: `${dir}/AlmaLinux-${major}-GenericCloud-latest.x86_64.qcow2`,
    checksum: checksumFile(`${dir}/CHECKSUM`, false),
    cloudInitBus: 'ide',
    bios: 'seabios',
    defaultUser: 'almalinux',
    notes: `The directory CHECKSUM lists the dated and the -latest names.${major === '10' ? ' AlmaLinux 10 needs an x86-64-v3 CPU type (or host).' : ''}`,
  };
};

const centosStream = (major: string): CatalogEntry => {
  const url = `https://cloud.centos.org/centos/${major}-stream/x86_64/images/CentOS-Stream-GenericCloud-${major}-latest.x86_64.qcow2`;
  return {
    name: `centos-stream-${major}`,
    displayName: `CentOS Stream ${major}`,
    family: 'rhel',
    imageUrl: url,
    checksum: checksumFile(`${url}.SHA256SUM`, true),
    cloudInitBus: 'ide',
    bios: 'seabios',
    defaultUser: 'cloud-user',
    notes: `The per-image .SHA256SUM is BSD style and names the dated file the -latest link points to.${major === '10' ? ' Boots with legacy BIOS only (CS-2672); needs an x86-64-v3 CPU type (or host).' : ''}`,
  };
};

const fedora = (release: string, compose: string): CatalogEntry => {
  const dir = `https://download.fedoraproject.org/pub/fedora/linux/releases/${release}/Cloud/x86_64/images`;
  return {
    name: `fedora-${release}`,
    displayName: `Fedora Cloud ${release}`,
    family: 'fedora',
    imageUrl: `${dir}/Fedora-Cloud-Base-Generic-${release}-${compose}.x86_64.qcow2`,
    checksum: checksumFile(`${dir}/Fedora-Cloud-${release}-${compose}-x86_64-CHECKSUM`, false),
    cloudInitBus: 'ide',
    bios: 'seabios',
    defaultUser: 'fedora',
    notes: 'Fedora names images by compose; a new Fedora release is a new catalog entry. CHECKSUM is PGP clear-signed, BSD style.',
  };
};

const alpine = (minor: string, patch: string): CatalogEntry => {
  const url = `https://dl-cdn.alpinelinux.org/alpine/v${minor}/releases/cloud/nocloud_alpine-${minor}.${patch}-x86_64-bios-cloudinit-r0.qcow2`;
  return {
    name: `alpine-${minor}`,
    displayName: `Alpine Linux ${minor}`,
    family: 'alpine',
    imageUrl: url,
    checksum: perFile(`${url}.sha512`, 'sha512'),
    cloudInitBus: 'scsi',
    bios: 'seabios',
    defaultUser: 'alpine',
    notes: 'The nocloud BIOS variant, built on the minimal virt kernel: the cloud-init drive goes on virtio SCSI, which it always sees. Only .sha512 is published. Point releases change the file name: a new point release is a catalog update.',
  };
};

const oracle = (major: string, update: string, build: string, sha256: string): CatalogEntry => ({
  name: `oracle-linux-${major}`,
  displayName: `Oracle Linux ${major} (update ${update})`,
  family: 'rhel',
  imageUrl: `https://yum.oracle.com/templates/OracleLinux/OL${major}/u${update}/x86_64/OL${major}U${update}_x86_64-kvm-${build}.qcow2`,
  checksum: pinned(sha256),
  cloudInitBus: 'ide',
  bios: 'seabios',
  defaultUser: 'cloud-user',
  notes: 'Oracle publishes the SHA256 only on https://yum.oracle.com/oracle-linux-templates.html, so the value is pinned here and changes with anvil\'s catalog. Boots with legacy BIOS (SeaBIOS).',
});

const leapUrl = (v: string) =>
  v.startsWith('15')
    ? `https://download.opensuse.org/distribution/leap/${v}/appliances/openSUSE-Leap-${v}-Minimal-VM.x86_64-Cloud.qcow2`
    : `https://download.opensuse.org/distribution/leap/${v}/appliances/Leap-${v}-Minimal-VM.x86_64-Cloud.qcow2`;

const leap = (version: string): CatalogEntry => ({
  name: `opensuse-leap-${version}`,
  displayName: `openSUSE Leap ${version}`,
  family: 'suse',
  imageUrl: leapUrl(version),
  checksum: perFile(`${leapUrl(version)}.sha256`, 'sha256'),
  cloudInitBus: 'ide',
  bios: 'seabios',
  defaultUser: 'root',
  notes: `Minimal-VM Cloud flavour (cloud-init). The .sha256 next to the unversioned link names the versioned build file.${version.startsWith('16') ? ' Leap 16 needs an x86-64-v2 CPU type.' : ''}`,
});

const TUMBLEWEED_URL = 'https://download.opensuse.org/tumbleweed/appliances/openSUSE-Tumbleweed-Minimal-VM.x86_64-Cloud.qcow2';
const ARCH_URL = 'https://geo.mirror.pkgbuild.com/images/latest/Arch-Linux-x86_64-cloudimg.qcow2';

export const CATALOG: readonly CatalogEntry[] = [
  ubuntu('22.04', 'jammy'),
  ubuntu('24.04', 'noble'),
  ubuntu('26.04', 'resolute'),
  debian('11', 'bullseye'),
  debian('12', 'bookworm'),
  debian('13', 'trixie'),
  rocky('9'),
  rocky('10'),
  alma('9'),
  alma('10'),
  centosStream('9'),
  centosStream('10'),
  fedora('43', '1.6'),
  fedora('44', '1.7'),
  leap('15.6'),
  leap('16.0'),
  {
    name: 'opensuse-tumbleweed',
    displayName: 'openSUSE Tumbleweed',
    family: 'suse',
    imageUrl: TUMBLEWEED_URL,
    checksum: perFile(`${TUMBLEWEED_URL}.sha256`, 'sha256'),
    cloudInitBus: 'ide',
    bios: 'seabios',
    defaultUser: 'root',
    notes: 'Rolling release: the checksum changes with every snapshot, so set a long checkIntervalSeconds or pin a version.',
  },
  {
    name: 'archlinux',
    displayName: 'Arch Linux',
    family: 'arch',
    imageUrl: ARCH_URL,
    checksum: perFile(`${ARCH_URL}.SHA256`, 'sha256'),
    cloudInitBus: 'ide',
    bios: 'seabios',
    defaultUser: 'arch',
    notes: 'The cloudimg flavour (cloud-init); rebuilt every two weeks.',
  },
  alpine('3.22', '4'),
  alpine('3.23', '4'),
  oracle('9', '5', 'b253', '3b00bbbefc8e78dd28d9f538834fb9e2a03d5ccdc2cadf2ffd0036c0a8f02021'),
  oracle('10', '1', 'b291', '8e59326c4bf7cfa58a6cac404db8ed583fe3a5f4c460e2b73c64988785bb4f0f'),
];

/** Short names for the newest entry of a distribution. */
export const CATALOG_ALIASES: Readonly<Record<string, string>> = {
  ubuntu: 'ubuntu-24.04',
  debian: 'debian-13',
  rocky: 'rocky-10',
  almalinux: 'almalinux-10',
  'centos-stream': 'centos-stream-10',
  fedora: 'fedora-44',
  'opensuse-leap': 'opensuse-leap-16.0',
  arch: 'archlinux',
  alpine: 'alpine-3.23',
  'oracle-linux': 'oracle-linux-10',
};

const BY_NAME = new Map(CATALOG.map((e) => [e.name, e]));

/** The catalog entry for a name or alias; undefined when unknown. */
export function catalogEntry(name: string): CatalogEntry | undefined {
  return BY_NAME.get(name) ?? (Object.hasOwn(CATALOG_ALIASES, name) ? BY_NAME.get(CATALOG_ALIASES[name]!) : undefined);
}

/** The message for an unknown distribution name, listing what exists. */
export function unknownDistributionMessage(name: string): string {
  return `unknown distribution "${name}": anvil's catalog has ${CATALOG.map((e) => e.name).join(', ')} (aliases: ${Object.keys(CATALOG_ALIASES).join(', ')})`;
}

/** Fetches a checksum file's text (the operator's HTTP client; a fake in tests). */
export type FetchText = (url: string) => Promise<string>;

/** The expected checksum of a catalog entry's image: the pinned value, or the entry for its file in the checksum file. */
export async function resolveCatalogChecksum(entry: CatalogEntry, fetchText: FetchText): Promise<{ value: string; algorithm: HashAlgorithm }> {
  const source = entry.checksum;
  if (source.kind === 'pinned') return { value: source.value, algorithm: source.algorithm };
  const fileName = decodeURIComponent(new URL(entry.imageUrl).pathname.split('/').pop()!);
  let text: string;
  try {
    text = await fetchText(source.url);
  } catch (err) {
    throw new ChecksumError(`cannot read the checksum file ${source.url}: ${(err as Error).message}`, true);
  }
  return { value: findChecksum(text, fileName, { algorithm: source.algorithm, perFile: source.perFile, source: source.url }), algorithm: source.algorithm };
}
