// The installer registry: one module per kind behind the Installer interface (types.ts). A template's spec.installer
// picks the kind; templates without one are ubuntu-autoinstall, as every template was before kinds existed.
import { DEFAULT_INSTALLER, INSTALLER_KINDS, type InstallerKind } from '@anvil/core/api';
import { debianPreseed } from './debian-preseed.js';
import { ignitionInstaller } from './ignition.js';
import type { Installer } from './types.js';
import { ubuntuAutoinstall } from './ubuntu-autoinstall.js';

export type { Installer, InstallerFiles, InstallerOutput, InstallerRenderInput, InstallerUrls, NormalizedEvent, ServedFile } from './types.js';
export { SUPPORTED_IGNITION_VERSIONS } from './ignition-config.js';
export { REPORT_UNIT_NAME, IGNITION_FINISH_EVENT } from './ignition-report-unit.js';
export { PRESEED_FINISH_EVENT, PRESEED_START_EVENT } from './debian-preseed-hooks.js';

const INSTALLERS: Readonly<Record<InstallerKind, Installer>> = {
  'ubuntu-autoinstall': ubuntuAutoinstall,
  ignition: ignitionInstaller,
  'debian-preseed': debianPreseed,
};

/** The installer of a kind (ubuntu-autoinstall when unset). */
export function installerFor(kind: InstallerKind | undefined): Installer {
  return INSTALLERS[kind ?? DEFAULT_INSTALLER];
}

/** Every installer, in the API's order. */
export const installers: readonly Installer[] = INSTALLER_KINDS.map((kind) => INSTALLERS[kind]);
