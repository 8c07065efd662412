// The installer interface: everything anvil must know about one kind of installer (Ubuntu autoinstall, Ignition...)
// to render, publish and follow an install. One module per kind implements it; index.ts is the registry.
//
// A kind decides
// - which template fields it renders, and which files (with their URL paths and content types) the boot-server serves
//   from them behind the install token;
// - how the rendered output is validated and completed (anvil's reporting hook added) before anything is published,
//   failing with RenderProblems that name the field, line and path;
// - the iPXE boot: kernel and initrd from the template's boot recipe, and the kernel arguments anvil adds;
// - how the installer's progress reaches the webhook and is normalised into anvil's installer events (stage), and
//   which event is the verdict.
import type { InstallerKind } from '@anvil/core/api';
import type { InstallerEvent, InstallVerdict } from '@anvil/core/install';
import type { TemplateField } from '../render/errors.js';

/** anvil's URLs for one host and install attempt (each carries the attempt's token where one is needed). */
export interface InstallerUrls {
  bootServerURL: string;
  /** Where the installer posts its progress events. */
  webhookURL: string;
  /** Seconds the installer's reporter sleeps before each retry of a failed POST, where its kind supports retries. */
  webhookRetries?: readonly number[];
  /** The NoCloud seed (ubuntu-autoinstall). */
  seedURL: string;
  /** The host's Ignition config (ignition); required by that kind. */
  ignitionURL?: string;
  /** The host's preseed file (debian-preseed); required by that kind. */
  preseedURL?: string;
  /** The boot-server's URL of the installer ISO, when the boot recipe has one. */
  isoURL?: string;
}

/** What a kind gets to complete and validate: the rendered template fields, and the host's facts it may need. */
export interface InstallerRenderInput {
  outputs: Partial<Record<TemplateField, string>>;
  urls: InstallerUrls;
  /** The host's name, its hostname, and the install's revision and attempt (meta-data defaults). */
  host: { name: string; hostname: string; networkConfig?: Record<string, unknown> };
  install: { revision: number; attempt: number };
}

/** The files a host is served, by kind. Empty NoCloud files are left out. */
export type InstallerFiles =
  | { installer: 'ubuntu-autoinstall'; userData: string; metaData: string; networkConfig?: string; vendorData?: string }
  | { installer: 'ignition'; ignition: string }
  | { installer: 'debian-preseed'; preseed: string };

export interface InstallerOutput {
  files: InstallerFiles;
  /** The installer's kernel command line, raw (quoted for iPXE by the script writer). */
  kernelArgs: string;
}

/** One file the boot-server serves to the host. */
export interface ServedFile {
  /** The template field it is rendered from. */
  field: TemplateField;
  /** Its URL path below the boot-server, with `<mac>` (dashes) and `<token>` placeholders. */
  path: string;
  contentType: string;
}

/** What an installer event means in anvil's terms. */
export interface NormalizedEvent {
  /** The install stage it belongs to (for status.currentInstall.stage and progress). */
  stage?: string;
  /** Set on the one event that decides the install. */
  verdict: InstallVerdict;
}

export interface Installer {
  readonly kind: InstallerKind;
  /** The template fields this kind renders (its templates may set only these). */
  readonly fields: readonly TemplateField[];
  /** The fields the template chain must set. */
  readonly requiredFields: readonly TemplateField[];
  /** What the boot-server serves, and where. */
  readonly served: readonly ServedFile[];
  /** Whether the boot recipe may carry an ISO. */
  readonly allowsIso: boolean;
  /**
   * Validates the rendered fields and completes them (anvil's reporting added, kernel arguments finalised). Throws a
   * RenderError of kind 'validation' listing every problem found.
   */
  render(input: InstallerRenderInput): InstallerOutput;
  /** The progress an event reports and whether it is the verdict (the boot-server's rule for every kind). */
  normalize(event: InstallerEvent): NormalizedEvent;
}
