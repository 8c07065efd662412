// TemplatePorts for unit tests: the fake PVE node, checksum files from a map, and the events, build records and task
// durations kept in arrays for the test to read. Plus a template and a context to run phase handlers on.
import type { ProxmoxTemplate, ProxmoxTemplateBuild, ProxmoxTemplateStatus, ProxmoxTemplateVersion } from '@anvil/core/api';
import type { ProxmoxApi, VmConfig } from '../../proxmox/ports.js';
import type { TemplateContext } from './context.js';
import { FakeProxmox } from './fake-proxmox.js';
import { buildId, ownerMarker, settingsHash, versionName } from './settings.js';
import { defaultTemplateControllerConfig, TemplateConfigError, type BuildOutcome, type BuildRecord, type TemplateControllerConfig, type TemplatePorts } from './ports.js';

export interface RecordedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  note: string;
}

export class FixtureTemplatePorts implements TemplatePorts {
  readonly events: RecordedEvent[] = [];
  readonly started: BuildRecord[] = [];
  readonly finished: BuildOutcome[] = [];
  readonly tasks: { type: string; ok: boolean }[] = [];
  readonly checksumFiles = new Map<string, string>();
  password: string | undefined;
  /** connect() throws this instead (a missing Secret, a bad token). */
  connectError: Error | undefined;

  constructor(readonly api: FakeProxmox = new FakeProxmox()) {}

  readonly history = {
    started: async (b: BuildRecord): Promise<void> => void this.started.push(b),
    finished: async (o: BuildOutcome): Promise<void> => void this.finished.push(o),
  };

  readonly fetchText = async (url: string): Promise<string> => {
    const text = this.checksumFiles.get(url);
    if (text === undefined) throw new Error(`HTTP 404 Not Found (${url})`);
    return text;
  };

  async connect(): Promise<ProxmoxApi> {
    if (this.connectError) throw this.connectError;
    return this.api;
  }

  async forget(): Promise<void> {}

  async cloudInitPassword(t: ProxmoxTemplate): Promise<string | undefined> {
    if (t.spec.cloudInit?.passwordSecretRef && this.password === undefined) throw new TemplateConfigError('SecretNotFound', 'the password Secret does not exist');
    return this.password;
  }

  event(_t: ProxmoxTemplate, type: 'Normal' | 'Warning', reason: string, note: string): void {
    this.events.push({ type, reason, note });
  }

  taskFinished(type: string, ok: boolean): void {
    this.tasks.push({ type, ok });
  }

  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}

export const IMAGE_URL = 'https://images.example.org/noble/noble-server-cloudimg-amd64.img';
export const CHECKSUM = 'ab'.repeat(32);
export const IMPORT_VOLUME = `local:import/noble-server-cloudimg-amd64-${CHECKSUM.slice(0, 12)}.qcow2`;

/** A ProxmoxTemplate with an explicit image URL and checksum (nothing to fetch), at generation 1. */
export function fixtureTemplate(spec: Partial<ProxmoxTemplate['spec']> = {}, status?: ProxmoxTemplateStatus): ProxmoxTemplate {
  return {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'ProxmoxTemplate',
    metadata: { name: 'noble', namespace: 'lab', uid: 'uid-1', generation: 1 },
    spec: {
      connection: { url: 'https://pve:8006', node: 'pve', tokenSecretRef: { name: 'pve-token' } },
      source: { url: IMAGE_URL, checksum: { value: CHECKSUM } },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

export const fixtureConfig: TemplateControllerConfig = { ...defaultTemplateControllerConfig, taskPollMs: 2_000, retryBaseMs: 60_000, retryMaxMs: 3_600_000 };

export const FIXED_NOW = new Date('2026-01-02T03:04:05Z');

/** A context as the runner hands it to a handler: connected to the fake node, the status a draft the test reads. */
export function fixtureContext(ports: FixtureTemplatePorts, template: ProxmoxTemplate, status: ProxmoxTemplateStatus = {}, now: Date = FIXED_NOW): TemplateContext {
  return { template, status, now, ports, config: fixtureConfig, api: ports.api };
}

/** The build the fixture template asks for (no password), at `step`. */
export function fixtureBuild(template: ProxmoxTemplate, overrides: Partial<ProxmoxTemplateBuild> = {}): ProxmoxTemplateBuild {
  const version = overrides.version ?? 1;
  return {
    id: buildId(template, version, 0),
    version,
    name: versionName(template, version),
    imageURL: IMAGE_URL,
    checksum: CHECKSUM,
    algorithm: 'sha256',
    importVolume: IMPORT_VOLUME,
    settingsHash: settingsHash(template, undefined),
    step: 'download',
    startedAt: '2026-01-02T03:00:00Z',
    failures: 0,
    ...overrides,
  };
}

/** The kept version a finished build of the fixture template becomes. */
export function fixtureVersion(template: ProxmoxTemplate, version: number, vmid: number, overrides: Partial<ProxmoxTemplateVersion> = {}): ProxmoxTemplateVersion {
  return { version, vmid, name: versionName(template, version), checksum: CHECKSUM, imageURL: IMAGE_URL, settingsHash: settingsHash(template, undefined), ...overrides };
}

/** The config of the VM a build made: its name and owner marker, a template once converted. */
export function builtVmConfig(template: ProxmoxTemplate, build: ProxmoxTemplateBuild, asTemplate: boolean): VmConfig {
  return { name: build.name!, description: ownerMarker(template, build), ...(asTemplate ? { template: 1 } : {}) };
}
