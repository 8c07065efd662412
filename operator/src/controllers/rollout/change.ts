// The diff gate's input: what a machine would receive from the previous revision and from the target, rendered for
// the first host of the rollout (a dry run with placeholder tokens, as validation renders), compared part by part.
import { parse } from 'yaml';
import type { AutoinstallTemplate, BareMetalHost } from '@anvil/core/api';
import { changedParts, highestOf, type ChangeClass, type InstallPayload } from '../../rollout/index.js';
import type { RenderOutcome, RenderedHost } from '../baremetalhost/ports.js';

/** Renders a host with a given kept revision of its template pinned. */
export type PinnedRender = (host: BareMetalHost, revision: number) => Promise<RenderOutcome>;

export interface ChangeReading {
  /** The class of the change; `installer` when it could not be read (the safest assumption). */
  class: ChangeClass;
  /** "storage (autoinstall.storage)" per changed part, or why the change could not be read. */
  parts: string[];
}

function payloadOf(r: RenderedHost): InstallPayload {
  let config: Record<string, unknown>;
  if (!r.installer || r.installer === 'ubuntu-autoinstall') {
    const doc = parse(r.userData) as { autoinstall?: Record<string, unknown> } | null;
    // anvil's own reporting block carries per-attempt values: not a change of the template
    const { reporting: _anvil, ...autoinstall } = doc?.autoinstall ?? {};
    config = autoinstall;
  } else {
    config = { [r.installer]: r.ignition ?? r.preseed ?? r.userData };
  }
  const boot: InstallPayload['boot'] = { kernel: r.boot.kernel, initrd: r.boot.initrd, ...(r.boot.iso ? { iso: r.boot.iso } : {}) };
  return { config, ...(r.installer ? { installer: r.installer } : {}), boot, kernelArgs: r.kernelArgs.split(/\s+/).filter(Boolean) };
}

export async function readChange(render: PinnedRender, template: AutoinstallTemplate, host: BareMetalHost | undefined, previousHash: string | undefined, targetHash: string): Promise<ChangeReading> {
  const revisions = template.status?.revisions ?? [];
  const previous = revisions.find((r) => r.contentHash === previousHash);
  const target = revisions.find((r) => r.contentHash === targetHash);
  if (!host || !previousHash) return { class: 'none', parts: ['no host ran an earlier revision'] };
  if (!previous || !target) return { class: 'installer', parts: [`the previous content (${previousHash.slice(0, 19)}) is no longer a kept revision: the change cannot be read`] };
  const [before, after] = await Promise.all([render(host, previous.revision), render(host, target.revision)]);
  if (!before.ok || !after.ok) {
    const failed = !before.ok ? before : (after as Extract<RenderOutcome, { ok: false }>);
    return { class: 'installer', parts: [`revision ${!before.ok ? previous.revision : target.revision} does not render for ${host.metadata.name}: ${failed.message}`.slice(0, 256)] };
  }
  const parts = changedParts(payloadOf(before.rendered), payloadOf(after.rendered));
  return { class: highestOf(parts.map((p) => p.class)), parts: parts.map((p) => `${p.class} (${p.path})`) };
}
