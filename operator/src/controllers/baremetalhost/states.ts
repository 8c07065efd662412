// The BareMetalHost state machine as a table of state -> handler (after metal3's host_state_machine).
// Handlers read the host, change the status draft, publish boot config through the ports, and say when to look
// again. They never talk to Kubernetes directly and are unit-tested with fakes.
import type { BareMetalHost, BareMetalHostErrorType, BareMetalHostState, BareMetalHostStatus } from '../../../../shared/src/api/index.js';
import { BAREMETALHOST_CONDITIONS as C, MAX_RECENT_INSTALLS } from '../../../../shared/src/api/index.js';
import { kubeTime, setCondition, type ConditionInput } from '../../../../shared/src/conditions.js';
import { assetURL, bootConfigHash, bootConfigSecretName, normalizeMac, sha256Hex, type BootConfig, type ClosedInstall } from '../../../../shared/src/bootconfig/boot-config.js';
import { installScript, IpxeScriptError, localBootScript } from '../../../../shared/src/bootconfig/ipxe.js';
import type { HostPorts, RenderedHost, StateMachineConfig } from './ports.js';

export const DISCOVERED_LABEL = 'anvil.dev/discovered';

export interface HostContext {
  /** Set when a decision must be saved before anything acts on it (a new attempt): the run stops there. */
  commitFirst?: boolean;
  readonly host: BareMetalHost;
  status: BareMetalHostStatus;
  readonly now: Date;
  readonly ports: HostPorts;
  readonly config: StateMachineConfig;
}

export interface StateResult {
  requeueAfterMs?: number;
}

type Handler = (ctx: HostContext) => Promise<StateResult>;

const hostRef = (h: BareMetalHost): string => `${h.metadata.namespace}/${h.metadata.name}`;
const revisionOf = (h: BareMetalHost): number => h.spec.provisioning?.revision ?? 0;
const allowed = (h: BareMetalHost): boolean => h.spec.provisioning?.allowed ?? true;
const timeoutMs = (h: BareMetalHost): number => (h.spec.provisioning?.timeoutSeconds ?? 3600) * 1000;
const maxRetries = (h: BareMetalHost): number => h.spec.provisioning?.maxRetries ?? 3;

function condition(ctx: HostContext, input: ConditionInput): void {
  ctx.status.conditions = setCondition(ctx.status.conditions, input, ctx.host.metadata.generation, ctx.now);
}

function transition(ctx: HostContext, next: BareMetalHostState, note: string, type: 'Normal' | 'Warning' = 'Normal'): void {
  if (ctx.status.state === next) return;
  ctx.status.state = next;
  ctx.ports.event(ctx.host, type, next, note);
}

function setError(ctx: HostContext, errorType: BareMetalHostErrorType, message: string): void {
  const changed = ctx.status.errorMessage !== message || ctx.status.errorType !== errorType;
  ctx.status.errorType = errorType;
  ctx.status.errorMessage = message;
  if (changed) ctx.status.errorCount = (ctx.status.errorCount ?? 0) + 1;
}

function clearError(ctx: HostContext): void {
  delete ctx.status.errorType;
  ctx.status.errorMessage = '';
  ctx.status.errorCount = 0;
}

/** Checks everything that must hold before a host can be installed. Returns false (with status explained) if not. */
async function validateHost(ctx: HostContext): Promise<boolean> {
  const { host } = ctx;
  if (!host.spec.templateRef?.name) {
    condition(ctx, { type: C.Ready, status: 'False', reason: 'NoTemplate', message: 'spec.templateRef is not set: nothing to install' });
    return false;
  }
  const mac = normalizeMac(host.spec.bootMACAddress);
  const owner = macOwner(host, ctx.ports.hostsWithMac(mac));
  if (owner !== host) {
    const message = `boot MAC ${mac} is already used by BareMetalHost ${hostRef(owner)}; each host needs its own MAC`;
    setError(ctx, 'ValidationError', message);
    condition(ctx, { type: C.Ready, status: 'False', reason: 'DuplicateMAC', message });
    return false;
  }
  const outcome = await ctx.ports.validate(host);
  if (!outcome.ok) {
    setError(ctx, outcome.errorType, outcome.message);
    condition(ctx, { type: C.Ready, status: 'False', reason: outcome.reason, message: outcome.message });
    return false;
  }
  if (ctx.status.errorType === 'ValidationError' || ctx.status.errorType === 'TemplateError') clearError(ctx);
  condition(ctx, { type: C.Ready, status: 'True', reason: 'Valid', message: `template chain ${outcome.templateChain.join(' -> ')} renders` });
  return true;
}

/** Of several hosts declaring one MAC, the oldest keeps it (then the first by namespace/name), so the winner is stable. */
export function macOwner(host: BareMetalHost, sameMac: BareMetalHost[]): BareMetalHost {
  const all = [host, ...sameMac.filter((h) => h.metadata.uid !== host.metadata.uid)];
  all.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || hostRef(a).localeCompare(hostRef(b)));
  return all[0]!;
}

const wantsInstall = (ctx: HostContext): boolean =>
  allowed(ctx.host) && (ctx.status.provisionedRevision === undefined || revisionOf(ctx.host) > ctx.status.provisionedRevision);

/** Attempts count every install of the host (first install, retries and reinstalls), never reused. */
const nextAttempt = (ctx: HostContext): number =>
  Math.max(ctx.status.currentInstall?.attempt ?? 0, ctx.status.recentInstalls?.[0]?.attempt ?? 0) + 1;

function startAttempt(ctx: HostContext, retry: boolean): void {
  const revision = revisionOf(ctx.host);
  const attempt = nextAttempt(ctx);
  ctx.status.currentInstall = { attempt, revision, installationId: ctx.ports.newInstallationId(), startedAt: ctx.now.toISOString(), phase: 'waiting for boot', progress: 'waiting for boot' };
  if (!retry) ctx.status.retry = { count: 0 };
  else if (ctx.status.retry) delete ctx.status.retry.nextAttemptAt;
  condition(ctx, { type: C.Provisioned, status: 'False', reason: 'Provisioning', message: `installing revision ${revision}` });
  condition(ctx, { type: C.Installing, status: 'False', reason: 'WaitingForBoot', message: `attempt ${attempt}: waiting for the machine to network-boot` });
  transition(ctx, 'Provisioning', `revision ${revision}, attempt ${attempt}: publishing boot config, waiting for the machine to network-boot`);
  // Save the new attempt before publishing anything for it: a reconcile working from a stale copy then fails its
  // write (409) instead of handing the machine a token for an attempt that never becomes current.
  ctx.commitFirst = true;
}

function bootConfigFor(ctx: HostContext, rendered: RenderedHost | undefined, token: string | undefined, reason: string): BootConfig {
  const { host } = ctx;
  const base = {
    hostName: host.metadata.name!,
    hostNamespace: host.metadata.namespace!,
    hostUID: host.metadata.uid ?? '',
    mac: normalizeMac(host.spec.bootMACAddress),
  };
  const closed = closedInstallToKeep(ctx);
  const ci = ctx.status.currentInstall;
  if (!rendered || !token || !ci) return { ...base, mode: 'local', ipxe: localBootScript(hostRef(host), host.spec.bootMode ?? 'UEFI', reason), ...(closed ? { closedInstall: closed } : {}) };
  const { bootServerURL } = ctx.ports.urls(host, token);
  const asset = (a: { url: string; sha256: string }): string => assetURL(bootServerURL, a);
  return {
    ...base,
    mode: 'install',
    ipxe: installScript({ hostRef: hostRef(host), revision: ci.revision, attempt: ci.attempt, kernelURL: asset(rendered.boot.kernel), initrdURL: asset(rendered.boot.initrd), kernelArgs: rendered.kernelArgs }),
    install: {
      installationId: ci.installationId!,
      revision: ci.revision,
      attempt: ci.attempt,
      token,
      tokenSha256: sha256Hex(token),
      userData: rendered.userData,
      metaData: rendered.metaData,
      ...(rendered.networkConfig !== undefined ? { networkConfig: rendered.networkConfig } : {}),
      ...(rendered.vendorData !== undefined ? { vendorData: rendered.vendorData } : {}),
      kernel: rendered.boot.kernel,
      initrd: rendered.boot.initrd,
      ...(rendered.boot.iso ? { iso: rendered.boot.iso } : {}),
      template: { name: rendered.templateChain.at(-1) ?? host.spec.templateRef?.name ?? '', contentHash: rendered.contentHash },
      ...(rendered.inputsHash !== undefined ? { inputsHash: rendered.inputsHash } : {}),
    },
    ...(closed ? { closedInstall: closed } : {}),
  };
}

/**
 * The attempt whose verdict was processed last keeps taking installer events for a while (late-commands, crash
 * reports): its token's hash stays in the boot config until the machine boots again. The boot-server also bounds it
 * in time (--event-grace-seconds).
 */
function closedInstallToKeep(ctx: HostContext): ClosedInstall | undefined {
  const published = ctx.ports.publishedBootConfig(ctx.host);
  const ci = ctx.status.currentInstall;
  let closed = published?.closedInstall;
  // The verdict of the published install was just processed: close it now.
  if (ci?.result && published?.mode === 'install' && published.install?.installationId === ci.installationId) {
    const i = published.install!;
    closed = { installationId: i.installationId, revision: i.revision, attempt: i.attempt, tokenSha256: i.tokenSha256, ...(i.template ? { template: i.template } : {}), closedAt: kubeTime(ctx.now) };
  }
  if (!closed) return undefined;
  const boot = ctx.status.lastBootRequest;
  if (boot && Date.parse(boot.time) > Date.parse(closed.closedAt)) return undefined;
  return closed;
}

async function publish(ctx: HostContext, config: BootConfig, alreadyPublished?: { secretName: string; hash: string }): Promise<void> {
  const { secretName, hash } = alreadyPublished ?? (await ctx.ports.publishBootConfig(ctx.host, config));
  if (ctx.status.bootConfig?.hash !== hash || ctx.status.bootConfig?.secretName !== secretName) {
    ctx.status.bootConfig = { secretName, hash, publishedAt: kubeTime(ctx.now) };
  }
  condition(ctx, {
    type: C.BootConfigReady,
    status: 'True',
    reason: config.mode === 'install' ? 'InstallerPublished' : 'LocalBootPublished',
    message: config.mode === 'install' ? 'the boot-server serves the installer to this host' : 'the boot-server tells this host to boot from its disk',
  });
}

/** Publishes "boot from disk": after success, while waiting to retry, or when installing is not allowed. */
async function publishLocalBoot(ctx: HostContext, reason: string): Promise<void> {
  const published = ctx.ports.publishedBootConfig(ctx.host);
  if (published?.mode === 'local' && ctx.status.bootConfig && published.closedInstall?.installationId === closedInstallToKeep(ctx)?.installationId) return;
  await publish(ctx, bootConfigFor(ctx, undefined, undefined, reason));
}

/** Publishes the installer for the current attempt, reusing the attempt's token so URLs already handed out keep working. */
async function publishInstall(ctx: HostContext): Promise<boolean> {
  const ci = ctx.status.currentInstall!;
  const published = ctx.ports.publishedBootConfig(ctx.host);
  const reuse = published?.mode === 'install' && published.install?.installationId === ci.installationId;
  const token = reuse ? published.install?.token || undefined : undefined;
  const identity = { revision: ci.revision, attempt: ci.attempt, installationId: ci.installationId!, token: token ?? ctx.ports.newToken() };
  if (reuse && published.install?.inputsHash !== undefined && published.install.inputsHash === ctx.ports.renderInputs(ctx.host, identity)) {
    // Published from exactly these inputs: rendering again would give the same config. An attempt renders once,
    // and a resync of thousands of waiting hosts costs neither renders nor API requests.
    await publish(ctx, published, { secretName: bootConfigSecretName(ctx.host.metadata.name!), hash: bootConfigHash(published) });
    return true;
  }
  const outcome = await ctx.ports.render(ctx.host, identity);
  // Except when what was published carries a secret in clear (published before anvil refused that): withdrawn.
  const unsafe = !outcome.ok && /plain-text password/.test(outcome.message);
  if (!outcome.ok && unsafe && reuse) await publishLocalBoot(ctx, 'withdrawn: the published config carried a plain-text password');
  if (!outcome.ok && reuse && !unsafe) {
    // The attempt is under way with what was published: a template or spec change that no longer renders must not
    // take it away from a machine that may already be booting it. The change is for the next attempt.
    condition(ctx, { type: C.BootConfigReady, status: 'True', reason: 'KeptForAttempt', message: `attempt ${ci.attempt} keeps its published boot config; the changed template does not render: ${outcome.message}` });
    return true;
  }
  if (!outcome.ok) {
    setError(ctx, outcome.errorType, outcome.message);
    condition(ctx, { type: C.BootConfigReady, status: 'False', reason: outcome.reason, message: outcome.message });
    return false;
  }
  let config: BootConfig;
  try {
    config = bootConfigFor(ctx, outcome.rendered, identity.token, 'installing');
  } catch (err) {
    if (!(err instanceof IpxeScriptError)) throw err;
    setError(ctx, 'TemplateError', err.message);
    condition(ctx, { type: C.BootConfigReady, status: 'False', reason: 'InvalidKernelArgs', message: err.message });
    return false;
  }
  await publish(ctx, config);
  return true;
}

function summarize(ctx: HostContext, result: 'SUCCESS' | 'FAIL', reason: string, message?: string): void {
  const ci = ctx.status.currentInstall;
  if (!ci) return;
  const finishedAt = ci.finishedAt ?? kubeTime(ctx.now);
  ci.finishedAt = finishedAt;
  ci.result = result;
  const summary = {
    attempt: ci.attempt,
    revision: ci.revision,
    ...(ci.installationId ? { installationId: ci.installationId } : {}),
    startedAt: ci.startedAt,
    finishedAt,
    result,
    durationSeconds: Math.max(0, Math.round((Date.parse(finishedAt) - Date.parse(ci.startedAt)) / 1000)),
    reason,
    ...(result === 'FAIL' && ci.failure ? { failedStage: ci.failure.stage } : {}),
    ...(result === 'FAIL' && message ? { message: message.slice(0, 1024) } : {}),
  };
  ctx.status.recentInstalls = [summary, ...(ctx.status.recentInstalls ?? [])].slice(0, MAX_RECENT_INSTALLS);
}

async function failAttempt(ctx: HostContext, reason: 'InstallerFailed' | 'Timeout', message: string): Promise<StateResult> {
  const ci = ctx.status.currentInstall!;
  summarize(ctx, 'FAIL', reason, message);
  setError(ctx, reason === 'Timeout' ? 'InstallTimeout' : 'InstallFailed', message);
  condition(ctx, { type: C.Installing, status: 'False', reason, message });
  const retries = ctx.status.retry?.count ?? 0;
  await publishLocalBoot(ctx, `attempt ${ci.attempt} failed`);
  if (retries < maxRetries(ctx.host)) {
    const delay = Math.min(ctx.config.retryBaseMs * 2 ** retries, ctx.config.retryMaxMs);
    ctx.status.retry = { count: retries + 1, nextAttemptAt: new Date(ctx.now.getTime() + delay).toISOString() };
    condition(ctx, { type: C.Provisioned, status: 'False', reason: 'RetryScheduled', message: `attempt ${ci.attempt} failed (${message}); retry ${retries + 1} of ${maxRetries(ctx.host)} at ${ctx.status.retry.nextAttemptAt}` });
    transition(ctx, 'Failed', `attempt ${ci.attempt} failed: ${message}; retrying in ${Math.round(delay / 1000)} s`, 'Warning');
    return { requeueAfterMs: delay };
  }
  ctx.status.retry = { count: retries };
  const final = `install of revision ${ci.revision} failed after ${retries + 1} attempt(s): ${message}. Bump spec.provisioning.revision to try again.`;
  ctx.status.errorMessage = final;
  condition(ctx, { type: C.Provisioned, status: 'False', reason: 'RetriesExhausted', message: final });
  transition(ctx, 'Failed', final, 'Warning');
  return {};
}

const pending: Handler = async (ctx) => {
  if (!ctx.host.spec.templateRef?.name && ctx.host.metadata.labels?.[DISCOVERED_LABEL] === 'true') {
    transition(ctx, 'Discovered', 'seen by the boot-server; give it a spec.templateRef to install it');
    return {};
  }
  if (!(await validateHost(ctx))) return { requeueAfterMs: 60_000 };
  transition(ctx, 'Ready', 'references resolved and the template renders');
  return {};
};

const discovered: Handler = async (ctx) => {
  if (ctx.host.spec.templateRef?.name) transition(ctx, 'Pending', 'template assigned');
  return {};
};

const ready: Handler = async (ctx) => {
  if (!(await validateHost(ctx))) {
    transition(ctx, 'Pending', 'validation failed', 'Warning');
    return {};
  }
  if (wantsInstall(ctx)) startAttempt(ctx, false);
  else await publishLocalBoot(ctx, allowed(ctx.host) ? 'nothing to install' : 'installing is not allowed (spec.provisioning.allowed=false)');
  return {};
};

const provisioning: Handler = async (ctx) => {
  const ci = ctx.status.currentInstall;
  if (!ci) {
    transition(ctx, 'Ready', 'no install in progress');
    return {};
  }
  if (!allowed(ctx.host)) {
    summarize(ctx, 'FAIL', 'Cancelled');
    delete ctx.status.currentInstall;
    await publishLocalBoot(ctx, 'installing is not allowed (spec.provisioning.allowed=false)');
    condition(ctx, { type: C.Installing, status: 'False', reason: 'Cancelled', message: 'spec.provisioning.allowed was set to false' });
    transition(ctx, 'Ready', 'install cancelled: spec.provisioning.allowed is false');
    return {};
  }
  // The installer's verdict is processed before anything is rendered: whatever the template says now, a finished
  // install ends (no reinstall loop when the template broke meanwhile).
  if (ci.result) {
    transition(ctx, 'Installing', `the installer reported its result (attempt ${ci.attempt})`);
    return installing(ctx);
  }
  // Only a boot after this attempt started counts (the boot-server stamps requests with millisecond precision).
  const bootSeen = ctx.status.lastBootRequest && Date.parse(ctx.status.lastBootRequest.time) > Date.parse(ci.startedAt);
  const published = ctx.ports.publishedBootConfig(ctx.host);
  const publishedForAttempt = published?.mode === 'install' && published.install?.installationId === ci.installationId;
  // Once the machine runs this attempt's installer, its boot config is frozen: nothing is rendered again for it.
  if (!((bootSeen || ci.lastEvent) && publishedForAttempt) && !(await publishInstall(ctx))) return { requeueAfterMs: 60_000 };
  if (bootSeen || ci.lastEvent) {
    condition(ctx, { type: C.Installing, status: 'True', reason: 'InstallerRunning', message: `attempt ${ci.attempt} of revision ${ci.revision}` });
    transition(ctx, 'Installing', `the machine booted the installer (attempt ${ci.attempt})`);
    return installing(ctx);
  }
  const left = Date.parse(ci.startedAt) + timeoutMs(ctx.host) - ctx.now.getTime();
  if (left <= 0) return failAttempt(ctx, 'Timeout', `the machine did not network-boot within ${timeoutMs(ctx.host) / 1000} s`);
  return { requeueAfterMs: left };
};

const installing: Handler = async (ctx) => {
  const ci = ctx.status.currentInstall;
  if (!ci) {
    transition(ctx, 'Ready', 'no install in progress');
    return {};
  }
  if (ci.result === 'SUCCESS') {
    summarize(ctx, 'SUCCESS', 'Succeeded');
    ctx.status.provisionedRevision = ci.revision;
    ctx.status.retry = { count: 0 };
    clearError(ctx);
    await publishLocalBoot(ctx, `provisioned (revision ${ci.revision})`);
    condition(ctx, { type: C.Installing, status: 'False', reason: 'Succeeded', message: `attempt ${ci.attempt} finished` });
    condition(ctx, { type: C.Provisioned, status: 'True', reason: 'Succeeded', message: `revision ${ci.revision} installed` });
    ci.progress = 'done';
    transition(ctx, 'Provisioned', `revision ${ci.revision} installed (attempt ${ci.attempt})`);
    return {};
  }
  if (ci.result === 'FAIL') {
    // The reason is the deepest failing step the boot-server recorded, not whichever event happened to come last.
    const what = ci.failure ? `${ci.failure.stage}: ${ci.failure.reason}` : 'the installer reported FAIL';
    return failAttempt(ctx, 'InstallerFailed', what);
  }
  if (ci.failure) {
    condition(ctx, { type: C.Installing, status: 'True', reason: 'InstallerFailing', message: `attempt ${ci.attempt}: ${ci.failure.stage} failed (${ci.failure.reason}); waiting for the installer's result` });
  }
  // Activity by the server's clock: an installer whose clock is off (years ahead or behind) must neither time out at
  // once nor never.
  const eventSeen = ci.lastEvent ? Date.parse(ci.lastEvent.receivedAt ?? ci.lastEvent.time) : 0;
  const lastActivity = Math.max(Date.parse(ci.startedAt), Math.min(eventSeen, ctx.now.getTime()), ctx.status.lastBootRequest ? Date.parse(ctx.status.lastBootRequest.time) : 0);
  const left = lastActivity + timeoutMs(ctx.host) - ctx.now.getTime();
  if (left <= 0) return failAttempt(ctx, 'Timeout', `no progress from the installer for ${timeoutMs(ctx.host) / 1000} s`);
  return { requeueAfterMs: Math.min(left, timeoutMs(ctx.host)) };
};

const provisioned: Handler = async (ctx) => {
  if (wantsInstall(ctx)) {
    if (!(await validateHost(ctx))) return { requeueAfterMs: 60_000 };
    startAttempt(ctx, false);
    return {};
  }
  await publishLocalBoot(ctx, `provisioned (revision ${ctx.status.provisionedRevision})`);
  return {};
};

const failed: Handler = async (ctx) => {
  const ci = ctx.status.currentInstall;
  if (wantsInstall(ctx) && (!ci || revisionOf(ctx.host) > ci.revision)) {
    if (!(await validateHost(ctx))) return { requeueAfterMs: 60_000 };
    startAttempt(ctx, false);
    return {};
  }
  const next = ctx.status.retry?.nextAttemptAt;
  if (!next || !ci || !allowed(ctx.host)) return {};
  const wait = Date.parse(next) - ctx.now.getTime();
  if (wait > 0) return { requeueAfterMs: wait };
  if (!(await validateHost(ctx))) return { requeueAfterMs: 60_000 };
  startAttempt(ctx, true);
  return {};
};

/** Deprovisioning: stop serving the installer and go back to Ready (used when a host's install is withdrawn). */
const deprovisioning: Handler = async (ctx) => {
  await publishLocalBoot(ctx, 'deprovisioned');
  transition(ctx, 'Ready', 'deprovisioned');
  return {};
};

/** Deleting is handled by the controller's finalizer path before the table is consulted. */
const deleting: Handler = async () => ({});

export const stateHandlers: Record<BareMetalHostState, Handler> = {
  Pending: pending,
  Discovered: discovered,
  Ready: ready,
  Provisioning: provisioning,
  Installing: installing,
  Provisioned: provisioned,
  Failed: failed,
  Deprovisioning: deprovisioning,
  Deleting: deleting,
};

/** Runs handlers until the state settles (bounded), so one reconcile can go Pending -> Ready -> Provisioning. */
export async function runStateMachine(ctx: HostContext, maxTransitions = 5): Promise<StateResult> {
  let result: StateResult = {};
  for (let i = 0; i < maxTransitions; i++) {
    const before = ctx.status.state ?? 'Pending';
    ctx.status.state = before;
    result = await stateHandlers[before](ctx);
    if (ctx.commitFirst) return { requeueAfterMs: 1 };
    if (ctx.status.state === before) return result;
  }
  return { requeueAfterMs: 1 };
}
