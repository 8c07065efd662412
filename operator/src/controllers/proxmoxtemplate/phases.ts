// The ProxmoxTemplate build as a table of phase -> handler (as metal3's host state machine). A handler does one
// step: start a PVE task and save its UPID, or look at the saved task and move on when it ended. Nothing waits for
// a task inside a reconcile, and every step first checks whether its work is already done (the image is in the
// import storage, the VM exists with our marker, it is already a template), so a restarted operator resumes a build
// from its status, and a lost status is rebuilt from what is on the node.
import {
  PROXMOXTEMPLATE_CONDITIONS as C,
  type ProxmoxTemplate,
  type ProxmoxTemplateBuild,
  type ProxmoxTemplatePhase,
  type ProxmoxTemplateStatus,
  type ProxmoxTemplateVersion,
} from '../../../../shared/src/api/index.js';
import { kubeTime, setCondition, type ConditionInput } from '../../../../shared/src/conditions.js';
import { ChecksumError } from '../../proxmox/checksums.js';
import { classifyMessage, ProxmoxError } from '../../proxmox/errors.js';
import type { ProxmoxApi } from '../../proxmox/ports.js';
import { templateCreateParams, ROOT_DISK } from '../../proxmox/vm-params.js';
import { deleteImageUnlessInUse, deleteOwnedVm, imagesInUse, pruneVersions } from './cleanup.js';
import { TemplateConfigError, type TemplateControllerConfig, type TemplatePorts } from './ports.js';
import { buildId, buildVmOptions, isOurBuild, namePrefix, ownerKey, parseOwnerMarker, settingsHash, versionName } from './settings.js';
import { importVolumeFor, resolveImage, type ResolvedImage } from './source.js';
import { chooseVmid } from './vmid.js';

export interface TemplateContext {
  readonly template: ProxmoxTemplate;
  status: ProxmoxTemplateStatus;
  readonly now: Date;
  readonly ports: TemplatePorts;
  readonly config: TemplateControllerConfig;
  /** Set by the runner once connected. */
  api: ProxmoxApi;
  /** A decision that must be saved before anything acts on it (a new build, a chosen VMID, a started task). */
  commitFirst?: boolean;
}

export interface PhaseResult {
  requeueAfterMs?: number;
  requeue?: boolean;
}

/** Returned by a handler that changed the phase: the next handler runs in the same reconcile. */
const NEXT = 'next' as const;
type Handler = (ctx: TemplateContext) => Promise<PhaseResult | typeof NEXT>;

export interface DesiredBuild extends ResolvedImage {
  settingsHash: string;
}

const ref = (t: ProxmoxTemplate): string => ownerKey(t);
const generationChanged = (ctx: TemplateContext): boolean => ctx.template.metadata.generation !== ctx.status.observedGeneration;

function condition(ctx: TemplateContext, input: ConditionInput): void {
  ctx.status.conditions = setCondition(ctx.status.conditions, input, ctx.template.metadata.generation, ctx.now);
}

function enter(ctx: TemplateContext, phase: ProxmoxTemplatePhase): typeof NEXT {
  ctx.status.phase = phase;
  return NEXT;
}

// ------------------------------------------------------------------------------------------------- desired state

async function desiredBuild(ctx: TemplateContext): Promise<DesiredBuild> {
  const image = await resolveImage(ctx.template, ctx.ports.fetchText);
  const password = await ctx.ports.cloudInitPassword(ctx.template);
  condition(ctx, { type: C.SourceResolved, status: 'True', reason: 'Resolved', message: `${image.url} (${image.algorithm} ${image.checksum.slice(0, 16)}…)` });
  ctx.status.imageURL = image.url;
  return { ...image, settingsHash: settingsHash(ctx.template, password) };
}

const versionMatches = (v: ProxmoxTemplateVersion, d: DesiredBuild): boolean =>
  v.checksum === d.checksum && v.settingsHash === d.settingsHash && (v.imageURL === undefined || v.imageURL === d.url);
const buildMatches = (b: ProxmoxTemplateBuild, d: DesiredBuild): boolean => b.checksum === d.checksum && b.settingsHash === d.settingsHash && b.imageURL === d.url;

const pinned = (ctx: TemplateContext): boolean => ctx.template.spec.versions?.pin !== undefined;

function checkIntervalMs(ctx: TemplateContext): number {
  const seconds = ctx.template.spec.source.checkIntervalSeconds ?? 86_400;
  return seconds === 0 ? 0 : Math.max(seconds * 1000, ctx.config.minCheckIntervalMs);
}

// ------------------------------------------------------------------------------------------------------ handlers

/** Decides: the existing version that matches the spec and upstream, a build to resume, or a new build. */
const pending: Handler = async (ctx) => {
  const { template, status } = ctx;
  const desired = await desiredBuild(ctx);
  status.lastCheckedAt = kubeTime(ctx.now);
  if (!status.versions?.length) await adoptExisting(ctx);
  const match = [...(status.versions ?? [])].reverse().find((v) => versionMatches(v, desired));
  // A pin holds the template at a kept version: nothing new is built until it is removed.
  if (!match && pinned(ctx) && status.versions?.length && !status.build) {
    activate(ctx);
    return enter(ctx, 'Ready');
  }
  if (match) {
    if (status.build) await abandonBuild(ctx, `version ${match.version} already matches the spec`);
    activate(ctx);
    return enter(ctx, 'Ready');
  }
  if (status.build && buildMatches(status.build, desired)) {
    // A retry of a failed build: a new history record, the same VMID, image and step.
    status.build.id = buildId(template, status.build.version, status.build.failures ?? 0);
    status.build.startedAt = kubeTime(ctx.now);
    await ctx.ports.history.started(historyRecord(ctx, status.build));
    ctx.ports.event(template, 'Normal', 'BuildResumed', `resuming version ${status.build.version} at step ${status.build.step}`);
    ctx.commitFirst = true;
    return enter(ctx, phaseOfStep(status.build));
  }
  if (status.build) await abandonBuild(ctx, 'the spec or the upstream image changed');
  const version = nextVersion(ctx);
  const build: ProxmoxTemplateBuild = {
    id: buildId(template, version, 0),
    version,
    name: versionName(template, version),
    imageURL: desired.url,
    checksum: desired.checksum,
    algorithm: desired.algorithm,
    importVolume: importVolumeFor(vmStorageForImport(template), desired),
    settingsHash: desired.settingsHash,
    step: 'download',
    startedAt: kubeTime(ctx.now),
    failures: 0,
  };
  status.build = build;
  await ctx.ports.history.started(historyRecord(ctx, build));
  ctx.ports.event(template, 'Normal', 'BuildStarted', `building version ${version} (${build.name}) from ${desired.url}`);
  ctx.commitFirst = true;
  return enter(ctx, 'Downloading');
};

const downloading: Handler = async (ctx) => {
  const build = ctx.status.build!;
  const [storage] = build.importVolume!.split(':');
  const present = async (): Promise<boolean> => (await ctx.api.listStorageContent(storage!, 'import')).some((v) => v.volid === build.importVolume);
  if (ctx.status.currentTask) {
    // Another template downloading the same image (same name: it carries the checksum) may have won the race.
    const outcome = await pollTask(ctx, present);
    if (outcome !== 'ok') return notOk(ctx, outcome);
  } else {
    if (!(await present())) {
      const upid = await ctx.api.downloadUrl({
        storage: storage!,
        url: build.imageURL!,
        filename: build.importVolume!.slice(`${storage}:import/`.length),
        content: 'import',
        checksum: build.checksum!,
        checksumAlgorithm: build.algorithm ?? 'sha256',
      });
      startTask(ctx, upid, 'download', `downloading ${build.imageURL} to ${build.importVolume}`);
      return { requeueAfterMs: ctx.config.taskPollMs };
    }
  }
  ctx.ports.event(ctx.template, 'Normal', 'Downloaded', `${build.importVolume} is in place (checksum verified by PVE)`);
  build.step = 'create';
  return enter(ctx, 'Creating');
};

const creating: Handler = async (ctx) => {
  const { template, status } = ctx;
  const build = status.build!;
  let existed = false;
  if (status.currentTask) {
    const outcome = await pollTask(ctx);
    // Someone else's VM, or ours from a create whose UPID a restart lost: the marker below tells.
    if (outcome === 'already-exists') existed = true;
    else if (outcome !== 'ok') return notOk(ctx, outcome);
  }
  if (build.vmid === undefined) {
    const choice = await chooseVmid(ctx.api, template.spec.vm?.vmidRange, build.takenVmids ?? []);
    if ('exhausted' in choice) return failResult(ctx, 'NoFreeVMID', choice.exhausted);
    build.vmid = choice.vmid;
    ctx.commitFirst = true;
    return NEXT;
  }
  const config = await ctx.api.getVmConfig(build.vmid);
  if (!config && existed) return vmidTaken(ctx, build.vmid);
  if (config) {
    const marker = parseOwnerMarker(config);
    if (!isOurBuild(template, marker, build.version)) {
      // A create still running has no description yet: ours (task UPID lost in a restart) or someone else's.
      if (config.lock === 'create') return { requeueAfterMs: ctx.config.taskPollMs };
      return vmidTaken(ctx, build.vmid);
    }
    if (config.lock === 'create') return { requeueAfterMs: ctx.config.taskPollMs };
    ctx.ports.event(template, 'Normal', 'Created', `VM ${build.vmid} (${build.name}) created with the imported disk`);
    build.step = template.spec.vm?.diskSize ? 'resize' : 'template';
    return enter(ctx, 'Converting');
  }
  const password = await ctx.ports.cloudInitPassword(template);
  let upid: string;
  try {
    upid = await ctx.api.createVm(templateCreateParams(buildVmOptions(template, build, password)));
  } catch (err) {
    // Created between our look and our call: the next pass reads its marker.
    if (err instanceof ProxmoxError && err.code === 'already-exists') return { requeueAfterMs: ctx.config.taskPollMs };
    throw err;
  }
  startTask(ctx, upid, 'qmcreate', `creating VM ${build.vmid} (${build.name}) from ${build.importVolume}`);
  return { requeueAfterMs: ctx.config.taskPollMs };
};

const converting: Handler = async (ctx) => {
  const { template, status } = ctx;
  const build = status.build!;
  if (status.currentTask) {
    const outcome = await pollTask(ctx);
    if (outcome !== 'ok') return notOk(ctx, outcome);
    if (build.step === 'resize') build.step = 'template';
  }
  const config = await ctx.api.getVmConfig(build.vmid!);
  if (!config || !isOurBuild(template, parseOwnerMarker(config), build.version)) {
    // Someone removed (or replaced) the VM mid-build: create it again.
    ctx.ports.event(template, 'Warning', 'VMLost', `VM ${build.vmid} disappeared during the build; creating it again`);
    delete build.vmid;
    build.step = 'create';
    return enter(ctx, 'Creating');
  }
  if (Number(config.template) === 1) return finishBuild(ctx);
  if (build.step === 'resize' && template.spec.vm?.diskSize) {
    const upid = await ctx.api.resizeDisk(build.vmid!, ROOT_DISK, template.spec.vm.diskSize);
    startTask(ctx, upid, 'resize', `growing ${ROOT_DISK} of VM ${build.vmid} to ${template.spec.vm.diskSize}`);
    return { requeueAfterMs: ctx.config.taskPollMs };
  }
  build.step = 'template';
  const upid = await ctx.api.convertToTemplate(build.vmid!);
  startTask(ctx, upid, 'qmtemplate', `converting VM ${build.vmid} to a template`);
  return { requeueAfterMs: ctx.config.taskPollMs };
};

/** Checks upstream and the spec now and then, keeps the versions list true to the node, prunes old versions. */
const ready: Handler = async (ctx) => {
  const { status } = ctx;
  const interval = checkIntervalMs(ctx);
  const last = status.lastCheckedAt ? Date.parse(status.lastCheckedAt) : 0;
  const due = generationChanged(ctx) || !status.versions?.length || (interval > 0 && ctx.now.getTime() - last >= interval);
  if (due) {
    await dropMissingVersions(ctx);
    const desired = await desiredBuild(ctx);
    status.lastCheckedAt = kubeTime(ctx.now);
    if (!status.versions?.length || (!pinned(ctx) && !status.versions.some((v) => versionMatches(v, desired)))) {
      ctx.ports.event(ctx.template, 'Normal', 'UpdateFound', `no kept version matches ${desired.url} (${desired.checksum.slice(0, 12)}) with the current settings; building a new one`);
      return enter(ctx, 'Pending');
    }
  }
  activate(ctx);
  await pruneVersions(ctx);
  status.message = `version ${status.activeVersion} (VMID ${status.vmid}, ${status.templateName}) is ready${pinned(ctx) ? ' (pinned: upstream updates are not built while spec.versions.pin is set)' : ''}`;
  if (interval === 0) return {};
  const sinceCheck = ctx.now.getTime() - Date.parse(status.lastCheckedAt ?? kubeTime(ctx.now));
  return { requeueAfterMs: Math.max(interval - sinceCheck, 1000) };
};

/** Waits for the retry time (or a spec change), then resumes the build where it failed. */
const failed: Handler = async (ctx) => {
  const retryAt = ctx.status.nextRetryAt ? Date.parse(ctx.status.nextRetryAt) : 0;
  if (!generationChanged(ctx) && retryAt > ctx.now.getTime()) return { requeueAfterMs: retryAt - ctx.now.getTime() };
  delete ctx.status.nextRetryAt;
  return enter(ctx, 'Pending');
};

/** Deletion is driven by the reconciler (finalizer); a Deleting object is only looked at by it. */
const deleting: Handler = async () => ({});

export const PHASES: Record<ProxmoxTemplatePhase, Handler> = {
  Pending: pending,
  Downloading: downloading,
  Creating: creating,
  Converting: converting,
  Ready: ready,
  Failed: failed,
  Deleting: deleting,
};

// ------------------------------------------------------------------------------------------------------- runner

const MAX_STEPS_PER_RECONCILE = 10;

/** Connects, then runs handlers until one waits; errors become status (and a retry) here. */
export async function runTemplatePhases(ctx: TemplateContext): Promise<PhaseResult> {
  try {
    ctx.api = await ctx.ports.connect(ctx.template);
    const phase = ctx.status.phase ?? 'Pending';
    ctx.status.phase = phase;
    if (phase === 'Pending' || phase === 'Ready' || phase === 'Failed' || !isConnected(ctx)) {
      const unsupported = await checkVersion(ctx);
      if (unsupported) return unsupported;
    }
    for (let i = 0; i < MAX_STEPS_PER_RECONCILE; i++) {
      const result = await PHASES[ctx.status.phase ?? 'Pending'](ctx);
      if (result !== NEXT) return result;
      if (ctx.commitFirst) return { requeueAfterMs: 1 };
    }
    return { requeueAfterMs: 1 };
  } catch (err) {
    return handleError(ctx, err);
  } finally {
    summarize(ctx);
  }
}

const isConnected = (ctx: TemplateContext): boolean => ctx.status.conditions?.find((c) => c.type === C.Connected)?.status === 'True';

async function checkVersion(ctx: TemplateContext): Promise<PhaseResult | undefined> {
  const v = await ctx.api.version();
  ctx.status.pveVersion = v.version;
  const [major = 0, minor = 0] = (v.release || v.version).split('.').map((n) => parseInt(n, 10));
  const [minMajor, minMinor] = ctx.config.minPveRelease;
  if (major < minMajor || (major === minMajor && minor < minMinor)) {
    const message = `Proxmox VE ${v.version} is not supported: anvil needs ${minMajor}.${minMinor} or newer (download-url with content=import)`;
    condition(ctx, { type: C.Connected, status: 'False', reason: 'UnsupportedVersion', message });
    ctx.status.message = message;
    return { requeueAfterMs: ctx.config.retryMaxMs };
  }
  condition(ctx, { type: C.Connected, status: 'True', reason: 'Connected', message: `Proxmox VE ${v.version} on node ${ctx.api.node}` });
  return undefined;
}

function handleError(ctx: TemplateContext, err: unknown): PhaseResult {
  if (err instanceof TemplateConfigError) {
    condition(ctx, { type: C.Connected, status: 'False', reason: err.reason, message: err.message });
    ctx.status.message = err.message;
    return { requeueAfterMs: ctx.config.retryBaseMs };
  }
  if (err instanceof ChecksumError) {
    if (err.transient) {
      condition(ctx, { type: C.SourceResolved, status: 'False', reason: 'ChecksumUnavailable', message: err.message });
      ctx.status.message = `${err.message} (will retry)`;
      return { requeue: true };
    }
    condition(ctx, { type: C.SourceResolved, status: 'False', reason: 'InvalidSource', message: err.message });
    return failResult(ctx, 'InvalidSource', err.message);
  }
  if (err instanceof ProxmoxError) {
    if (err.code === 'auth' || err.code === 'tls' || err.code === 'network') {
      const reason = err.code === 'auth' ? 'Unauthorized' : err.code === 'tls' ? 'TLSError' : 'Unreachable';
      condition(ctx, { type: C.Connected, status: 'False', reason, message: err.message });
      ctx.status.message = err.message;
      return err.transient ? { requeue: true } : { requeueAfterMs: ctx.config.retryBaseMs };
    }
    if (err.transient) {
      ctx.status.message = `Proxmox VE: ${err.message} (will retry)`;
      return { requeue: true };
    }
    const reason = err.code === 'permission' ? 'PermissionDenied' : err.code === 'parameter' ? 'InvalidParameter' : 'ProxmoxError';
    return failResult(ctx, reason, `Proxmox VE refused: ${err.message}`);
  }
  throw err;
}

// ------------------------------------------------------------------------------------------------------- tasks

function startTask(ctx: TemplateContext, upid: string, type: string, message: string): void {
  ctx.status.currentTask = { upid, type, node: ctx.api.node, startedAt: kubeTime(ctx.now) };
  ctx.status.message = message;
  ctx.commitFirst = true;
}

type TaskOutcome = 'ok' | 'already-exists' | PhaseResult;

/** Looks at the saved task: still running (poll again), succeeded, or failed (the build fails with its log). */
async function pollTask(ctx: TemplateContext, doneAnyway?: () => Promise<boolean>): Promise<TaskOutcome> {
  const task = ctx.status.currentTask!;
  let state;
  try {
    state = await ctx.api.taskStatus(task.upid!);
  } catch (err) {
    // The task is gone (node rebooted, log rotated): the step handler checks what is on the node instead.
    if (err instanceof ProxmoxError && err.code === 'not-found') {
      delete ctx.status.currentTask;
      return 'ok';
    }
    throw err;
  }
  if (state.status === 'running') return { requeueAfterMs: ctx.config.taskPollMs };
  const result = await ctx.api.waitForTask(task.upid!);
  ctx.ports.taskFinished(state.type, result.ok, Math.max(0, ctx.now.getTime() / 1000 - state.starttime));
  delete ctx.status.currentTask;
  if (result.ok || (await doneAnyway?.())) return 'ok';
  ctx.status.lastFailedTask = {
    upid: result.upid,
    type: result.type,
    exitStatus: result.exitStatus.slice(0, 1024),
    log: result.logTail.join('\n').slice(-8192),
    finishedAt: kubeTime(ctx.now),
  };
  const code = classifyMessage(result.exitStatus);
  if (code === 'already-exists' && result.type === 'qmcreate') return 'already-exists';
  if (code === 'lock') {
    ctx.status.message = `PVE task ${result.type} could not get its lock (${result.exitStatus}); will retry`;
    return { requeue: true };
  }
  return failResult(ctx, 'TaskFailed', `PVE task ${result.type} failed: ${result.exitStatus}`);
}

/** A task outcome other than success, outside the create step (where "already exists" means a VMID race). */
function notOk(ctx: TemplateContext, outcome: Exclude<TaskOutcome, 'ok'>): PhaseResult {
  return outcome === 'already-exists' ? failResult(ctx, 'TaskFailed', 'PVE reports that the VM already exists') : outcome;
}

function vmidTaken(ctx: TemplateContext, vmid: number): typeof NEXT {
  const build = ctx.status.build!;
  build.takenVmids = [...new Set([...(build.takenVmids ?? []), vmid])].slice(-64);
  delete build.vmid;
  ctx.ports.event(ctx.template, 'Normal', 'VMIDTaken', `VMID ${vmid} was taken by someone else; choosing another`);
  return NEXT;
}

// ------------------------------------------------------------------------------------------- build bookkeeping

function phaseOfStep(build: ProxmoxTemplateBuild): ProxmoxTemplatePhase {
  return build.step === 'download' ? 'Downloading' : build.step === 'create' ? 'Creating' : 'Converting';
}

const vmStorageForImport = (t: ProxmoxTemplate): string => t.spec.vm?.importStorage ?? 'local';

function historyRecord(ctx: TemplateContext, build: ProxmoxTemplateBuild) {
  return {
    id: build.id,
    namespace: ctx.template.metadata.namespace ?? '',
    name: ctx.template.metadata.name!,
    version: build.version,
    ...(build.vmid !== undefined ? { vmid: build.vmid } : {}),
    node: ctx.template.spec.connection.node,
    startedAt: ctx.now,
  };
}

function nextVersion(ctx: TemplateContext): number {
  const known = [...(ctx.status.versions ?? []).map((v) => v.version), ctx.status.build?.version ?? 0, ctx.status.activeVersion ?? 0];
  return Math.max(0, ...known) + 1;
}

async function finishBuild(ctx: TemplateContext): Promise<PhaseResult | typeof NEXT> {
  const { status, template } = ctx;
  const build = status.build!;
  const version: ProxmoxTemplateVersion = {
    version: build.version,
    vmid: build.vmid!,
    name: build.name!,
    checksum: build.checksum!,
    imageURL: build.imageURL!,
    settingsHash: build.settingsHash!,
    createdAt: kubeTime(ctx.now),
  };
  status.versions = [...(status.versions ?? []).filter((v) => v.version !== build.version), version].sort((a, b) => a.version - b.version);
  delete status.build;
  delete status.nextRetryAt;
  await ctx.ports.history.finished({ id: build.id, result: 'SUCCESS', finishedAt: ctx.now, checksum: build.checksum!, vmid: build.vmid! });
  ctx.ports.event(template, 'Normal', 'BuildSucceeded', `version ${build.version} is template ${build.name} (VMID ${build.vmid})`);
  activate(ctx);
  return enter(ctx, 'Ready');
}

/** Gives up the build in progress: its half-made VM is removed, its history record says CANCELLED. */
async function abandonBuild(ctx: TemplateContext, why: string): Promise<void> {
  const build = ctx.status.build!;
  if (ctx.status.currentTask) {
    const state = await ctx.api.taskStatus(ctx.status.currentTask.upid!).catch(() => undefined);
    if (state?.status === 'running') throw new ProxmoxError({ code: 'lock', status: 0, pveMessage: `waiting for task ${state.type} of the abandoned build to end`, transient: true });
    delete ctx.status.currentTask;
  }
  if (build.vmid !== undefined) await deleteOwnedVm(ctx, build.vmid, (m) => isOurBuild(ctx.template, m, build.version));
  await deleteImageUnlessInUse(ctx, build.importVolume, imagesInUse(ctx, { withBuild: false }));
  await ctx.ports.history.finished({ id: build.id, result: 'CANCELLED', finishedAt: ctx.now, failureReason: why });
  ctx.ports.event(ctx.template, 'Normal', 'BuildCancelled', `version ${build.version} abandoned: ${why}`);
  delete ctx.status.build;
}

function failResult(ctx: TemplateContext, reason: string, message: string): PhaseResult {
  const { status } = ctx;
  const build = status.build;
  const failures = (build?.failures ?? 0) + 1;
  if (build) build.failures = failures;
  const delay = Math.min(ctx.config.retryBaseMs * 2 ** (failures - 1), ctx.config.retryMaxMs);
  status.nextRetryAt = kubeTime(new Date(ctx.now.getTime() + delay));
  status.phase = 'Failed';
  status.message = `${message} (retrying at ${status.nextRetryAt}, or at once when the spec changes)`;
  delete status.currentTask;
  condition(ctx, { type: C.Building, status: 'False', reason, message });
  if (build) void ctx.ports.history.finished({ id: build.id, result: 'FAIL', finishedAt: ctx.now, failureReason: `${reason}: ${message}`.slice(0, 2000) }).catch(() => undefined);
  ctx.ports.event(ctx.template, 'Warning', 'BuildFailed', message);
  return { requeueAfterMs: delay };
}

// ----------------------------------------------------------------------------------------- versions and status

/** activeVersion: the pinned version when it is kept, else the newest; the status fields that describe it follow. */
function activate(ctx: TemplateContext): void {
  const { status, template } = ctx;
  const versions = status.versions ?? [];
  const pin = template.spec.versions?.pin;
  const newest = versions.at(-1);
  const pinned = pin !== undefined ? versions.find((v) => v.version === pin) : undefined;
  const active = pinned ?? (pin !== undefined ? versions.find((v) => v.version === status.activeVersion) ?? newest : newest);
  if (!active) return;
  if (status.activeVersion !== active.version) {
    if (status.activeVersion !== undefined) ctx.ports.event(template, 'Normal', 'VersionActivated', `version ${active.version} (VMID ${active.vmid}) is now active${pinned ? ' (pinned)' : ''}`);
    status.activeVersion = active.version;
  }
  status.vmid = active.vmid;
  status.templateName = active.name ?? versionName(template, active.version);
  if (active.checksum) status.imageChecksum = active.checksum;
}

/** Forgets versions whose template was removed on the node by someone else. */
async function dropMissingVersions(ctx: TemplateContext): Promise<void> {
  const versions = ctx.status.versions ?? [];
  if (!versions.length) return;
  const templates = new Set((await ctx.api.listVms()).filter((v) => v.template).map((v) => v.vmid));
  const missing = versions.filter((v) => !templates.has(v.vmid));
  if (!missing.length) return;
  ctx.status.versions = versions.filter((v) => templates.has(v.vmid));
  ctx.ports.event(ctx.template, 'Warning', 'TemplateMissing', `templates of version(s) ${missing.map((v) => `${v.version} (VMID ${v.vmid})`).join(', ')} are gone from node ${ctx.api.node}`);
}

/**
 * Status lost, or the object re-created (GitOps restore): templates on the node that carry this object's owner marker
 * become its versions instead of being built again. Half-built VMs of an earlier object with the same name are removed.
 */
async function adoptExisting(ctx: TemplateContext): Promise<void> {
  const { template, status } = ctx;
  const prefix = `${namePrefix(template)}-v`;
  const adopted: ProxmoxTemplateVersion[] = [];
  for (const vm of await ctx.api.listVms()) {
    if (!vm.name?.startsWith(prefix) || vm.vmid === status.build?.vmid) continue;
    const config = await ctx.api.getVmConfig(vm.vmid);
    const marker = parseOwnerMarker(config);
    if (marker?.owner !== ref(template)) continue;
    if (vm.template) {
      adopted.push({
        version: marker.version,
        vmid: vm.vmid,
        name: vm.name,
        ...(marker.checksum ? { checksum: marker.checksum } : {}),
        ...(marker.imageURL ? { imageURL: marker.imageURL } : {}),
        ...(marker.settingsHash ? { settingsHash: marker.settingsHash } : {}),
      });
    } else if (!vm.lock) {
      await deleteOwnedVm(ctx, vm.vmid, (m) => m.owner === ref(template) && m.version === marker.version);
      ctx.ports.event(template, 'Normal', 'LeftoverRemoved', `removed VM ${vm.vmid} (${vm.name}), an unfinished build of an earlier ${ref(template)}`);
    }
  }
  if (!adopted.length) return;
  status.versions = adopted.sort((a, b) => a.version - b.version);
  ctx.ports.event(template, 'Normal', 'Adopted', `adopted existing templates: ${adopted.map((v) => `v${v.version} (VMID ${v.vmid})`).join(', ')}`);
}

/** Conditions that follow from the rest of the status: Ready and Building. */
function summarize(ctx: TemplateContext): void {
  const { status } = ctx;
  const pin = ctx.template.spec.versions?.pin;
  const active = status.versions?.find((v) => v.version === status.activeVersion);
  if (pin !== undefined && status.versions?.length && !status.versions.some((v) => v.version === pin)) {
    const kept = status.versions.map((v) => v.version).join(', ');
    condition(ctx, { type: C.Ready, status: 'False', reason: 'PinnedVersionNotFound', message: `spec.versions.pin is ${pin} but the kept versions are ${kept}; version ${status.activeVersion} stays active` });
  } else if (active) {
    condition(ctx, { type: C.Ready, status: 'True', reason: 'TemplateReady', message: `version ${active.version} is template ${active.name} (VMID ${active.vmid})` });
  } else {
    const failed = status.phase === 'Failed';
    condition(ctx, { type: C.Ready, status: 'False', reason: failed ? 'BuildFailed' : 'NoTemplateYet', message: failed ? (status.message ?? '') : 'the first version is not built yet' });
  }
  const build = status.build;
  if (build && status.phase !== 'Failed') {
    condition(ctx, { type: C.Building, status: 'True', reason: status.phase ?? 'Pending', message: `version ${build.version}: step ${build.step}${status.currentTask ? ` (task ${status.currentTask.upid})` : ''}` });
  } else if (!build && status.phase !== 'Failed') {
    condition(ctx, { type: C.Building, status: 'False', reason: 'Idle', message: 'no build in progress' });
  }
}
