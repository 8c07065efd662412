// One pass of power control for one host: read the power state, then carry out at most one action — the
// provisioning power cycle of a new install attempt, a reboot request, or spec.online. It writes only status.power
// and the BMCReachable/CredentialsValid conditions of the status draft; the BareMetalHost state machine owns the rest.
import type { BareMetalHost, BareMetalHostStatus, PowerState } from '@anvil/core/api';
import { BAREMETALHOST_CONDITIONS as C } from '@anvil/core/api';
import { findCondition, kubeTime, removeCondition, setCondition, type ConditionInput } from '@anvil/core/conditions';
import { isPowerError, PowerError, type PowerDriver } from '../../power/driver.js';
import { reboot } from '../../power/reboot.js';
import { done, requeueAfter, type ReconcileResult } from '../../runtime/result.js';
import type { PowerControllerConfig, PowerPorts } from './ports.js';

/** What the controller remembers about a host between reconciles (lost on restart; status is the durable record). */
export interface HostMemory {
  /** The host object this memory belongs to (a host deleted and created again starts afresh). */
  uid?: string | undefined;
  consecutiveErrors: number;
  retryAt?: number;
  /** metadata.generation the backoff applies to: a spec change is tried at once. */
  retryGeneration?: number;
  /** One-shot actions carried out by this process, in case their status write did not land. */
  provisionedAttempt?: number;
  rebootRequestId?: string;
  /** When spec.online=false first asked the OS to shut down. */
  softOffSince?: number;
}

export interface PowerContext {
  readonly host: BareMetalHost;
  /** The status draft; only status.power and our two conditions are changed. */
  status: BareMetalHostStatus;
  readonly now: Date;
  readonly ports: PowerPorts;
  readonly config: PowerControllerConfig;
  readonly memory: HostMemory;
}

type Power = NonNullable<BareMetalHostStatus['power']>;

function condition(ctx: PowerContext, input: ConditionInput): void {
  ctx.status.conditions = setCondition(ctx.status.conditions, input, ctx.host.metadata.generation, ctx.now);
}

function observe(ctx: PowerContext, power: Power, state: PowerState): void {
  // observedAt moves only with the state: writing it on every poll would update every host object each interval.
  if (power.state === state) return;
  power.state = state;
  power.observedAt = kubeTime(ctx.now);
}

/** Power control polls: every result but a host without a BMC is a requeueAfter. */
export async function reconcilePower(ctx: PowerContext): Promise<ReconcileResult> {
  const { host, status, memory, now } = ctx;
  if (!host.spec.bmc?.address) {
    if (status.conditions?.some((c) => c.type === C.BMCReachable || c.type === C.CredentialsValid)) {
      status.conditions = removeCondition(removeCondition(status.conditions, C.BMCReachable), C.CredentialsValid);
    }
    await ctx.ports.forgetDriver(host.metadata.namespace!, host.metadata.name!);
    return done();
  }
  const firstSight = !status.power;
  const power: Power = (status.power ??= {});
  if (firstSight) adoptExisting(ctx, power);
  // A one-shot action done by this process whose status write was lost is recorded now, not done again.
  if (memory.provisionedAttempt !== undefined && (power.lastProvisioningAttempt ?? 0) < memory.provisionedAttempt) power.lastProvisioningAttempt = memory.provisionedAttempt;
  if (memory.rebootRequestId !== undefined && host.spec.reboot?.requestId === memory.rebootRequestId) power.lastRebootRequestId = memory.rebootRequestId;

  if (memory.retryAt !== undefined && memory.retryGeneration === host.metadata.generation && now.getTime() < memory.retryAt) {
    return requeueAfter(memory.retryAt - now.getTime());
  }
  let readOk = false;
  try {
    const { driver, created } = await ctx.ports.driverFor(host);
    if (created) await driver.validate();
    const state = await driver.powerState();
    readOk = true;
    reachable(ctx, driver);
    observe(ctx, power, state);
    const acted = await act(ctx, driver, power, state);
    delete power.error;
    memory.consecutiveErrors = 0;
    delete memory.retryAt;
    if (acted === 'wait') return requeueAfter(Math.min(2_000, ctx.config.afterActionPollMs));
    return requeueAfter(acted ? ctx.config.afterActionPollMs : ctx.config.pollIntervalMs);
  } catch (err) {
    if (!isPowerError(err)) throw err;
    if (!readOk) unreachable(ctx, power, err);
    power.error = err.message.slice(0, 1024);
    ctx.ports.event(host, 'Warning', readOk ? 'PowerActionFailed' : 'BMCError', err.message);
    const delay = Math.min(ctx.config.backoffBaseMs * 2 ** memory.consecutiveErrors, ctx.config.backoffMaxMs);
    memory.consecutiveErrors++;
    memory.retryAt = now.getTime() + delay;
    memory.retryGeneration = host.metadata.generation;
    return requeueAfter(delay);
  }
}

/**
 * The first time power control sees a host, requests already there are history, not orders: a reboot requestId is
 * recorded without rebooting, and an install already running is not power-cycled.
 */
function adoptExisting(ctx: PowerContext, power: Power): void {
  const { host, status } = ctx;
  if (host.spec.reboot?.requestId) power.lastRebootRequestId = host.spec.reboot.requestId;
  const ci = status.currentInstall;
  if (ci && status.state !== 'Provisioning') power.lastProvisioningAttempt = ci.attempt;
}

function reachable(ctx: PowerContext, driver: PowerDriver): void {
  if (!driver.capabilities.readPowerState) {
    condition(ctx, { type: C.BMCReachable, status: 'Unknown', reason: 'NoFeedback', message: `${driver.kind}: packets get no answer, so the power state cannot be read` });
    condition(ctx, { type: C.CredentialsValid, status: 'True', reason: 'NotRequired', message: `${driver.kind} needs no credentials` });
    return;
  }
  condition(ctx, { type: C.BMCReachable, status: 'True', reason: 'Reachable', message: `the ${driver.kind} BMC answers` });
  condition(ctx, { type: C.CredentialsValid, status: 'True', reason: 'Accepted', message: `the ${driver.kind} BMC accepted the credentials` });
}

function unreachable(ctx: PowerContext, power: Power, err: PowerError): void {
  switch (err.kind) {
    case 'Unauthorized':
      condition(ctx, { type: C.BMCReachable, status: 'True', reason: 'Reachable', message: 'the BMC answers' });
      condition(ctx, { type: C.CredentialsValid, status: 'False', reason: err.reason, message: err.message });
      break;
    case 'InvalidConfig':
      condition(ctx, { type: C.BMCReachable, status: 'Unknown', reason: 'NotChecked', message: `not contacted: ${err.message}` });
      condition(ctx, { type: C.CredentialsValid, status: 'False', reason: err.reason, message: err.message });
      break;
    default:
      condition(ctx, { type: C.BMCReachable, status: 'False', reason: err.reason, message: err.message });
      // Credentials last accepted stay accepted; never checked means unknown.
      if (!findCondition(ctx.status.conditions, C.CredentialsValid)) {
        condition(ctx, { type: C.CredentialsValid, status: 'Unknown', reason: 'BMCUnreachable', message: 'the BMC has not answered yet' });
      }
  }
  observe(ctx, power, 'Unknown');
}

/** Carries out at most one power action; true when one was done, 'wait' when one is due but not yet possible. */
async function act(ctx: PowerContext, driver: PowerDriver, power: Power, state: PowerState): Promise<boolean | 'wait'> {
  const provisioning = await provisioningPowerCycle(ctx, driver, power, state);
  if (provisioning !== false) return provisioning;
  if (await rebootRequest(ctx, driver, power)) return true;
  return enforceOnline(ctx, driver, state);
}

/** A new install attempt: network boot once, then power on (or reset a running machine) — once per attempt. */
async function provisioningPowerCycle(ctx: PowerContext, driver: PowerDriver, power: Power, state: PowerState): Promise<boolean | 'wait'> {
  const { host, status } = ctx;
  const ci = status.currentInstall;
  if (status.state !== 'Provisioning' || !ci || ci.finishedAt || !ci.installationId || power.lastProvisioningAttempt === ci.attempt) return false;
  if (host.spec.online === false) {
    ctx.ports.event(host, 'Warning', 'InstallWaitsForPower', `attempt ${ci.attempt} needs the machine on, but spec.online is false`);
    return false;
  }
  // Decide on the API server's copy, not the cache: a stale cache must not power-cycle an attempt twice.
  const fresh = await ctx.ports.freshHost(host);
  const fci = fresh?.status?.currentInstall;
  if (!fresh || fresh.status?.state !== 'Provisioning' || fci?.attempt !== ci.attempt) return 'wait';
  if (fresh.status.power?.lastProvisioningAttempt === ci.attempt) {
    power.lastProvisioningAttempt = ci.attempt;
    return false;
  }
  if (!(await ctx.ports.installerPublished(host, ci.installationId))) return 'wait';
  const how = await ctx.ports.limit(async () => {
    if (driver.capabilities.bootOnce) await driver.setNextBootNetwork();
    if (state === 'On' && driver.capabilities.reset) {
      await driver.reset('Hard');
      return 'reset';
    }
    await driver.powerOn();
    return 'powered on';
  });
  ctx.memory.provisionedAttempt = ci.attempt;
  power.lastProvisioningAttempt = ci.attempt;
  power.lastProvisioningAt = kubeTime(ctx.now);
  const want = host.spec.reboot?.requestId;
  if (want && want !== power.lastRebootRequestId) {
    // The power cycle is the reboot that was asked for.
    power.lastRebootRequestId = want;
    power.lastRebootAt = power.lastProvisioningAt;
    ctx.memory.rebootRequestId = want;
  }
  const boot = driver.capabilities.bootOnce ? 'next boot set to the network, ' : '';
  ctx.ports.event(host, 'Normal', 'ProvisioningPowerCycle', `install attempt ${ci.attempt}: ${boot}${how}`);
  return true;
}

async function rebootRequest(ctx: PowerContext, driver: PowerDriver, power: Power): Promise<boolean> {
  const { host } = ctx;
  const want = host.spec.reboot?.requestId;
  if (!want || want === power.lastRebootRequestId) return false;
  const fresh = await ctx.ports.freshHost(host);
  if (fresh?.spec.reboot?.requestId !== want) return false;
  if (fresh.status?.power?.lastRebootRequestId === want) {
    power.lastRebootRequestId = want;
    return false;
  }
  const mode = host.spec.reboot?.mode ?? 'Soft';
  const record = (): void => {
    power.lastRebootRequestId = want;
    power.lastRebootAt = kubeTime(ctx.now);
    ctx.memory.rebootRequestId = want;
  };
  if (host.spec.online === false) {
    record();
    ctx.ports.event(host, 'Normal', 'RebootSkipped', `reboot request ${want} not carried out: spec.online is false, the host stays off`);
    return false;
  }
  const how = await ctx.ports.limit(() => reboot(driver, mode, { softTimeoutMs: ctx.config.softTimeoutMs, pollMs: Math.min(2_000, ctx.config.softTimeoutMs) }));
  record();
  ctx.ports.event(host, 'Normal', 'Rebooted', `reboot request ${want} (${mode}): ${how}`);
  return true;
}

async function enforceOnline(ctx: PowerContext, driver: PowerDriver, state: PowerState): Promise<boolean> {
  const { host, memory } = ctx;
  const online = host.spec.online;
  if (online !== false) delete memory.softOffSince;
  if (online === true && state === 'Off') {
    await ctx.ports.limit(() => driver.powerOn());
    ctx.ports.event(host, 'Normal', 'PoweredOn', 'spec.online is true');
    return true;
  }
  if (online === false && state === 'On') {
    if (!driver.capabilities.powerOff) throw new PowerError('Unsupported', `spec.online is false, but the ${driver.kind} driver cannot power a machine off`);
    const now = ctx.now.getTime();
    if (memory.softOffSince === undefined) {
      memory.softOffSince = now;
      await ctx.ports.limit(() => driver.powerOff('Soft'));
      ctx.ports.event(host, 'Normal', 'PoweringOff', 'spec.online is false: asked the operating system to shut down');
      return true;
    }
    if (now - memory.softOffSince >= ctx.config.softTimeoutMs) {
      await ctx.ports.limit(() => driver.powerOff('Hard'));
      ctx.ports.event(host, 'Normal', 'PoweredOff', `spec.online is false: power cut after the operating system did not shut down within ${ctx.config.softTimeoutMs / 1000} s`);
      return true;
    }
    return true;
  }
  if (state === 'Off') delete memory.softOffSince;
  return false;
}
