// The per-host boot config the operator publishes and the boot-server serves: one labelled Secret per host,
// owned by the host (garbage-collected with it). The boot-server never runs templates; it serves these bytes.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DEFAULT_INSTALLER, INSTALLER_KINDS, type InstallerKind } from '../api/index.js';
import type { KubeObject } from '../kube/index.js';

export const BOOT_CONFIG_LABEL = 'anvil.dev/boot-config';
export const HOST_LABEL = 'anvil.dev/host';
export const MAC_LABEL = 'anvil.dev/mac';
export const CONTENT_HASH_ANNOTATION = 'anvil.dev/content-hash';

/** `install`: serve the installer (token valid). `local`: tell the machine to boot from its disk (no token). */
export type BootMode = 'install' | 'local';

export interface BootConfig {
  mode: BootMode;
  hostName: string;
  hostNamespace: string;
  hostUID: string;
  mac: string;
  ipxe: string;
  /** spec.bootIPAddress: the address anvil's managed DHCP gives the boot interface. */
  reservedAddress?: string;
  /** Present in install mode only. */
  install?: {
    installationId: string;
    revision: number;
    attempt: number;
    /** The attempt's secret: part of every URL the host uses. Reused while the attempt lasts, gone after it. */
    token: string;
    tokenSha256: string;
    /** The template's installer kind; absent in configs published before kinds existed: ubuntu-autoinstall. */
    installer?: InstallerKind;
    /** NoCloud user-data and meta-data (ubuntu-autoinstall); empty for other kinds, which are served nothing here. */
    userData: string;
    metaData: string;
    networkConfig?: string;
    vendorData?: string;
    /** The rendered Ignition config, JSON (installer: ignition). */
    ignition?: string;
    /** The rendered preseed file (installer: debian-preseed). */
    preseed?: string;
    kernel: { url: string; sha256: string };
    initrd: { url: string; sha256: string };
    iso?: { url: string; sha256: string };
    /** The host's template and the hash of what was rendered, for the install history. */
    template?: { name: string; contentHash: string };
    /** The fingerprint of the operator's render inputs: equal inputs, no need to render again. */
    inputsHash?: string;
  };
  /**
   * The attempt that just ended (its verdict arrived): the installer keeps reporting after its verdict (late-commands,
   * crash reports, error-commands), so the webhook still takes that attempt's events for a grace period from
   * `closedAt`, until the host boots again. Only the token's hash is kept: nothing else of the attempt is served.
   */
  closedInstall?: ClosedInstall;
}

export interface ClosedInstall {
  installationId: string;
  revision: number;
  attempt: number;
  tokenSha256: string;
  template?: { name: string; contentHash: string };
  /** When the verdict was processed (RFC 3339). */
  closedAt: string;
}

/** Secret keys; kept flat so `kubectl get secret -o yaml` stays readable. */
const KEYS = {
  mode: 'mode',
  hostName: 'host-name',
  hostNamespace: 'host-namespace',
  hostUID: 'host-uid',
  mac: 'mac',
  ipxe: 'boot.ipxe',
  reservedAddress: 'reserved-address',
  installationId: 'installation-id',
  revision: 'revision',
  attempt: 'attempt',
  token: 'token',
  tokenSha256: 'token-sha256',
  userData: 'user-data',
  metaData: 'meta-data',
  networkConfig: 'network-config',
  vendorData: 'vendor-data',
  installer: 'installer',
  ignition: 'ignition.json',
  preseed: 'preseed.cfg',
  assets: 'assets.json',
  template: 'template.json',
  inputsHash: 'inputs-hash',
  closedInstall: 'closed-install.json',
} as const;

export const normalizeMac = (mac: string): string => mac.trim().toLowerCase().replace(/-/g, ':');
export const macDashed = (mac: string): string => normalizeMac(mac).replace(/:/g, '-');
export const bootConfigSecretName = (hostName: string): string => `${hostName}-bootconfig`.slice(0, 253);

export const newToken = (): string => randomBytes(24).toString('base64url');
export const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

export function tokenMatches(token: string, expectedSha256: string): boolean {
  const a = Buffer.from(sha256Hex(token), 'hex');
  const b = Buffer.from(expectedSha256, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function bootConfigHash(config: BootConfig): string {
  return `sha256:${sha256Hex(JSON.stringify(toStringData(config)))}`;
}

function toStringData(c: BootConfig): Record<string, string> {
  const d: Record<string, string> = {
    [KEYS.mode]: c.mode,
    [KEYS.hostName]: c.hostName,
    [KEYS.hostNamespace]: c.hostNamespace,
    [KEYS.hostUID]: c.hostUID,
    [KEYS.mac]: normalizeMac(c.mac),
    [KEYS.ipxe]: c.ipxe,
  };
  if (c.reservedAddress !== undefined) d[KEYS.reservedAddress] = c.reservedAddress;
  if (c.install) {
    const i = c.install;
    d[KEYS.installationId] = i.installationId;
    d[KEYS.revision] = String(i.revision);
    d[KEYS.attempt] = String(i.attempt);
    d[KEYS.token] = i.token;
    d[KEYS.tokenSha256] = i.tokenSha256;
    // ubuntu-autoinstall configs keep exactly the keys they had before installer kinds existed
    if (i.installer !== undefined && i.installer !== DEFAULT_INSTALLER) d[KEYS.installer] = i.installer;
    if (usesNoCloud(i.installer)) {
      d[KEYS.userData] = i.userData;
      d[KEYS.metaData] = i.metaData;
    }
    if (i.ignition !== undefined) d[KEYS.ignition] = i.ignition;
    if (i.preseed !== undefined) d[KEYS.preseed] = i.preseed;
    if (i.networkConfig !== undefined) d[KEYS.networkConfig] = i.networkConfig;
    if (i.vendorData !== undefined) d[KEYS.vendorData] = i.vendorData;
    d[KEYS.assets] = JSON.stringify({ kernel: i.kernel, initrd: i.initrd, ...(i.iso ? { iso: i.iso } : {}) });
    if (i.template) d[KEYS.template] = JSON.stringify(i.template);
    if (i.inputsHash !== undefined) d[KEYS.inputsHash] = i.inputsHash;
  }
  if (c.closedInstall) d[KEYS.closedInstall] = JSON.stringify(c.closedInstall);
  return d;
}

export function toSecret(config: BootConfig, namespace: string): KubeObject {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(toStringData(config))) data[k] = Buffer.from(v, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: bootConfigSecretName(config.hostName),
      namespace,
      labels: { [BOOT_CONFIG_LABEL]: 'true', [HOST_LABEL]: config.hostName.slice(0, 63), [MAC_LABEL]: macDashed(config.mac) },
      annotations: { [CONTENT_HASH_ANNOTATION]: bootConfigHash(config) },
    },
    data,
  };
}

/** Reads a boot config Secret back; undefined when it is not one or is malformed. */
export function fromSecret(secret: KubeObject): BootConfig | undefined {
  const raw = (secret.data ?? {}) as Record<string, string>;
  const get = (k: string): string | undefined => (raw[k] === undefined ? undefined : Buffer.from(raw[k], 'base64').toString('utf8'));
  const mode = get(KEYS.mode);
  const hostName = get(KEYS.hostName);
  const mac = get(KEYS.mac);
  const ipxe = get(KEYS.ipxe);
  if ((mode !== 'install' && mode !== 'local') || !hostName || !mac || ipxe === undefined) return undefined;
  const config: BootConfig = {
    mode,
    hostName,
    hostNamespace: get(KEYS.hostNamespace) ?? secret.metadata.namespace ?? '',
    hostUID: get(KEYS.hostUID) ?? '',
    mac,
    ipxe,
  };
  const reservedAddress = get(KEYS.reservedAddress);
  if (reservedAddress) config.reservedAddress = reservedAddress;
  if (mode === 'install') {
    const assets = JSON.parse(get(KEYS.assets) ?? '{}') as NonNullable<BootConfig['install']>;
    const installationId = get(KEYS.installationId);
    const tokenSha256 = get(KEYS.tokenSha256);
    const token = get(KEYS.token) ?? '';
    const installer = installerOf(get(KEYS.installer));
    if (installer === 'unknown') return undefined;
    const noCloud = installer === undefined || usesNoCloud(installer);
    const userData = get(KEYS.userData) ?? (noCloud ? undefined : '');
    const metaData = get(KEYS.metaData) ?? (noCloud ? undefined : '');
    const ignition = get(KEYS.ignition);
    const preseed = get(KEYS.preseed);
    if (!installationId || !tokenSha256 || userData === undefined || metaData === undefined || !assets.kernel || !assets.initrd) return undefined;
    if (installer === 'ignition' && ignition === undefined) return undefined;
    if (installer === 'debian-preseed' && preseed === undefined) return undefined;
    config.install = {
      installationId,
      revision: Number(get(KEYS.revision) ?? 0),
      attempt: Number(get(KEYS.attempt) ?? 1),
      token,
      tokenSha256,
      ...(installer !== undefined ? { installer } : {}),
      userData,
      metaData,
      ...(ignition !== undefined ? { ignition } : {}),
      ...(preseed !== undefined ? { preseed } : {}),
      kernel: assets.kernel,
      initrd: assets.initrd,
      ...(assets.iso ? { iso: assets.iso } : {}),
    };
    const template = get(KEYS.template);
    if (template) config.install.template = JSON.parse(template) as { name: string; contentHash: string };
    const inputsHash = get(KEYS.inputsHash);
    if (inputsHash !== undefined) config.install.inputsHash = inputsHash;
    const nc = get(KEYS.networkConfig);
    const vd = get(KEYS.vendorData);
    if (nc !== undefined) config.install.networkConfig = nc;
    if (vd !== undefined) config.install.vendorData = vd;
  }
  const closed = parseClosedInstall(get(KEYS.closedInstall));
  if (closed) config.closedInstall = closed;
  return config;
}

/** Whether a kind is served NoCloud files (user-data, meta-data...): ubuntu-autoinstall, also when unset. */
export const usesNoCloud = (installer: InstallerKind | undefined): boolean => (installer ?? DEFAULT_INSTALLER) === 'ubuntu-autoinstall';

/** A kind this version knows; an unknown one makes the Secret unreadable rather than served as something else. */
function installerOf(text: string | undefined): InstallerKind | undefined | 'unknown' {
  if (text === undefined) return undefined;
  return INSTALLER_KINDS.find((kind) => kind === text) ?? 'unknown';
}

function parseClosedInstall(text: string | undefined): ClosedInstall | undefined {
  if (!text) return undefined;
  try {
    const c = JSON.parse(text) as Partial<ClosedInstall>;
    if (typeof c.installationId !== 'string' || typeof c.tokenSha256 !== 'string' || typeof c.closedAt !== 'string') return undefined;
    return c as ClosedInstall;
  } catch {
    return undefined;
  }
}

/** Where the boot-server serves a cached boot artifact: content-addressed by its sha256, named like the original. */
export function assetURL(bootServerURL: string, artifact: { url: string; sha256: string }): string {
  const name = artifact.url.split('?')[0]!.split('/').pop() || 'file';
  return `${bootServerURL.replace(/\/+$/, '')}/assets/${artifact.sha256.toLowerCase()}/${encodeURIComponent(name)}`;
}
