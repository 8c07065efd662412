// The examples render for their hosts, pass anvil's own autoinstall validation, and are valid against the
// official subiquity schema (read from ../shared when present).
import { Ajv } from 'ajv';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { AutoinstallTemplateSpec, BareMetalHost, ProxmoxTemplate } from '@anvil/core/api';
import { vmSettings } from '@anvil/operator/src/controllers/proxmoxtemplate/settings.js';
import { catalogEntry, importFileName } from '@anvil/operator/src/proxmox/index.js';
import { renderBootConfig, resolveTemplate } from '@anvil/operator/src/render/index.js';
import { OFFICIAL_AUTOINSTALL_SCHEMA, ROOT } from '../fixtures/render.js';
import { kubeTools } from '../harness/tools.js';

type Obj = { kind: string; metadata: { name: string }; spec: Record<string, unknown>; stringData?: Record<string, string> };

/** The example's objects; a kustomization is built with kubectl kustomize, as `kubectl apply -k` would. */
function load(dir: string): Obj[] {
  if (existsSync(join(dir, 'kustomization.yaml'))) {
    const out = execFileSync(kubeTools().kubectl, ['kustomize', dir], { encoding: 'utf8' });
    return parseAllDocuments(out).map((d) => d.toJS() as Obj);
  }
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Obj));
}

const officialPresent = existsSync(OFFICIAL_AUTOINSTALL_SCHEMA);

describe.each(['ubuntu', 'quickstart', 'fleet', 'rollout'])('examples/%s', (example) => {
  const objects = load(join(ROOT, 'examples', example));
  const templates = Object.fromEntries(objects.filter((o) => o.kind === 'AutoinstallTemplate').map((o) => [o.metadata.name, o.spec as AutoinstallTemplateSpec]));
  const secrets = objects.filter((o) => o.kind === 'Secret');
  const hosts = objects.filter((o) => o.kind === 'BareMetalHost') as unknown as BareMetalHost[];

  it('has hosts to render', () => expect(hosts.length).toBeGreaterThan(0));

  it.each(hosts.map((h) => [h.metadata.name!, h]))('renders %s and validates it', async (_name, host) => {
    const values: Record<string, string> = {};
    for (const ref of host.spec.secretRefs ?? []) values[ref.variable] = secrets.find((s) => s.metadata.name === ref.name)!.stringData![ref.key!]!;
    const template = resolveTemplate(host.spec.templateRef!.name, (n) => templates[n]);
    const base = 'http://10.0.0.2:8080';
    const rendered = await renderBootConfig({
      host: { ...host, metadata: { ...host.metadata, namespace: 'metal' } },
      template,
      install: { revision: 1, attempt: 1 },
      anvil: { bootServerURL: base, webhookURL: `${base}/webhook/x/t`, seedURL: `${base}/nocloud/x/t/`, assets: { kernel: `${base}/assets/k`, initrd: `${base}/assets/i`, iso: `${base}/assets/iso` } },
      secrets: values,
    });
    const autoinstall = (parse(rendered.userData, { version: '1.1' }) as { autoinstall: Record<string, unknown> }).autoinstall;
    expect(autoinstall.version).toBe(1);
    expect(autoinstall.reporting).toEqual({ anvil: { type: 'webhook', endpoint: `${base}/webhook/x/t` } });
    expect(rendered.kernelArgs).toContain(`ds=nocloud-net;s=${base}/nocloud/x/t/`);
    if (officialPresent) {
      const official = new Ajv({ strict: false, validateFormats: false, allErrors: true }).compile(JSON.parse(readFileSync(OFFICIAL_AUTOINSTALL_SCHEMA, 'utf8')));
      const ok = official(autoinstall);
      expect(official.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    } else {
      console.warn(`official autoinstall schema not found at ${OFFICIAL_AUTOINSTALL_SCHEMA}: checked against anvil's own schema only`);
    }
  });
});

describe('examples/proxmox', () => {
  const objects = load(join(ROOT, 'examples', 'proxmox'));
  const templates = objects.filter((o) => o.kind === 'ProxmoxTemplate') as unknown as ProxmoxTemplate[];
  const secrets = new Set(objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name));

  it('has templates', () => expect(templates.length).toBeGreaterThanOrEqual(3));

  it.each(templates.map((t) => [t.metadata.name!, t]))('%s names a known image and Secrets that are in the example', (_name, t) => {
    const url = t.spec.source.distribution ? catalogEntry(t.spec.source.distribution)?.imageUrl : t.spec.source.url;
    expect(url).toBeDefined();
    expect(() => importFileName(url!)).not.toThrow();
    expect(secrets.has(t.spec.connection.tokenSecretRef.name)).toBe(true);
    if (t.spec.connection.caSecretRef) expect(secrets.has(t.spec.connection.caSecretRef.name)).toBe(true);
    if (t.spec.cloudInit?.passwordSecretRef) expect(secrets.has(t.spec.cloudInit.passwordSecretRef.name)).toBe(true);
    expect(vmSettings(t).cloudInitBus).toBe(t.spec.source.distribution?.startsWith('alpine') ? 'scsi' : 'ide');
  });
});
