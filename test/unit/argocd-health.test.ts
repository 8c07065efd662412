// The Argo CD health checks (examples/gitops/argocd/health/*.lua) run with a real Lua 5.1 interpreter (the dialect of
// Argo CD's gopher-lua) on objects shaped like the ones the operator writes.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const HEALTH = fileURLToPath(new URL('../../examples/gitops/argocd/health/', import.meta.url));
const LUA = 'lua5.1';
const luaMissing = spawnSync(LUA, ['-v']).error !== undefined;
if (luaMissing && !process.env.CI) console.warn(`skipping the Argo CD health check tests: ${LUA} is not installed (scripts/setup.sh installs it)`);
const describeWithLua = luaMissing && !process.env.CI ? describe.skip : describe;

/** A JS value as a Lua table constructor. */
function toLua(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'string') return JSON.stringify(v); // JSON string escapes are valid Lua escapes for this text
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `{${v.map(toLua).join(', ')}}`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `[${JSON.stringify(k)}] = ${toLua(x)}`).join(', ')}}`;
}

/** Runs a health script the way Argo CD does: `obj` is global, the script's chunk returns the health table. */
function health(script: string, obj: unknown): { status: string; message: string } {
  const program = `obj = ${toLua(obj)}\nlocal check = function()\n${readFileSync(join(HEALTH, script), 'utf8')}\nend\nlocal hs = check()\nio.write(hs.status, "\\n", hs.message or "")`;
  const r = spawnSync(LUA, ['-'], { input: program, encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${script} failed in Lua: ${r.stderr}`);
  const [status, ...message] = r.stdout.split('\n');
  return { status: status!, message: message.join('\n') };
}

const host = (status?: unknown, metadata: Record<string, unknown> = {}) => ({ apiVersion: 'anvil.dev/v1alpha1', kind: 'BareMetalHost', metadata: { name: 'node-01', generation: 3, ...metadata }, spec: {}, ...(status ? { status } : {}) });

describeWithLua('Argo CD health checks', () => {
  it('argocd-cm.yaml carries exactly the scripts beside it', () => {
    const cm = parse(readFileSync(join(HEALTH, 'argocd-cm.yaml'), 'utf8')) as { data: Record<string, string> };
    expect(Object.keys(cm.data).sort()).toEqual([
      'resource.customizations.health.anvil.dev_AutoinstallTemplate',
      'resource.customizations.health.anvil.dev_BareMetalHost',
      'resource.customizations.health.anvil.dev_ProxmoxTemplate',
    ]);
    for (const [kind, file] of [['BareMetalHost', 'baremetalhost.lua'], ['AutoinstallTemplate', 'autoinstalltemplate.lua'], ['ProxmoxTemplate', 'proxmoxtemplate.lua']]) {
      expect(cm.data[`resource.customizations.health.anvil.dev_${kind}`]).toBe(readFileSync(join(HEALTH, file!), 'utf8'));
    }
  });

  it.each([
    ['no status yet', host(), 'Progressing', 'waiting for the anvil operator'],
    ['a spec the operator has not seen', host({ state: 'Provisioned', observedGeneration: 2 }), 'Progressing', 'the operator has not seen the latest spec yet'],
    ['installed', host({ state: 'Provisioned', observedGeneration: 3 }), 'Healthy', 'Provisioned'],
    ['nothing to do', host({ state: 'Ready', observedGeneration: 3 }), 'Healthy', 'Ready'],
    ['installing', host({ state: 'Installing', observedGeneration: 3, currentInstall: { attempt: 1, revision: 0, startedAt: '2026-11-22T10:00:00Z', progress: '12/30 curtin' } }), 'Progressing', 'Installing 12/30 curtin'],
    ['failed', host({ state: 'Failed', observedGeneration: 3, errorType: 'InstallFailed', errorMessage: 'installer reported FAIL in curthooks' }), 'Degraded', 'Failed: installer reported FAIL in curthooks'],
    ['failed, message only in the condition', host({ state: 'Failed', observedGeneration: 3, conditions: [{ type: 'Ready', status: 'False', reason: 'RetriesExhausted', message: '3 attempts failed' }] }), 'Degraded', 'Failed: 3 attempts failed'],
    ['a spec that cannot be acted on', host({ state: 'Pending', observedGeneration: 3, errorType: 'ValidationError', errorMessage: 'AutoinstallTemplate "ubuntu" not found' }), 'Degraded', 'ValidationError: AutoinstallTemplate "ubuntu" not found'],
    ['discovered on the network', host({ state: 'Discovered', observedGeneration: 3 }), 'Suspended', 'Discovered on the network; give it a templateRef to install it'],
    ['being deleted', host({ state: 'Deleting' }, { deletionTimestamp: '2026-11-22T10:00:00Z' }), 'Progressing', 'deleting'],
  ])('BareMetalHost: %s', (_name, obj, status, message) => {
    expect(health('baremetalhost.lua', obj)).toEqual({ status, message });
  });

  const pxt = (status?: unknown) => ({ apiVersion: 'anvil.dev/v1alpha1', kind: 'ProxmoxTemplate', metadata: { name: 'ubuntu-2404', generation: 1 }, ...(status ? { status } : {}) });
  it.each([
    ['no status yet', pxt(), 'Progressing', 'waiting for the anvil operator'],
    ['downloading', pxt({ phase: 'Downloading', observedGeneration: 1, message: 'noble-server-cloudimg-amd64.qcow2 41%' }), 'Progressing', 'Downloading: noble-server-cloudimg-amd64.qcow2 41%'],
    ['ready', pxt({ phase: 'Ready', observedGeneration: 1, templateName: 'ubuntu-2404-v2' }), 'Healthy', 'template ubuntu-2404-v2 ready'],
    ['failed', pxt({ phase: 'Failed', observedGeneration: 1, message: "403 Permission check failed (/storage/local, Datastore.AllocateSpace)" }), 'Degraded', 'Failed: 403 Permission check failed (/storage/local, Datastore.AllocateSpace)'],
  ])('ProxmoxTemplate: %s', (_name, obj, status, message) => {
    expect(health('proxmoxtemplate.lua', obj)).toEqual({ status, message });
  });

  const ait = (conditions?: unknown) => ({ apiVersion: 'anvil.dev/v1alpha1', kind: 'AutoinstallTemplate', metadata: { name: 'ubuntu', generation: 1 }, ...(conditions ? { status: { observedGeneration: 1, conditions } } : {}) });
  it.each([
    ['no status yet', ait(), 'Progressing', 'waiting for the anvil operator'],
    ['valid', ait([{ type: 'Valid', status: 'True', reason: 'Valid', message: 'chain base -> ubuntu compiles' }]), 'Healthy', 'chain base -> ubuntu compiles'],
    ['invalid', ait([{ type: 'Valid', status: 'False', reason: 'SyntaxError', message: 'userData line 4: unexpected end of file' }]), 'Degraded', 'userData line 4: unexpected end of file'],
  ])('AutoinstallTemplate: %s', (_name, obj, status, message) => {
    expect(health('autoinstalltemplate.lua', obj)).toEqual({ status, message });
  });
});
