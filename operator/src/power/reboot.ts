// Reboots in terms of what a driver can do: a Hard reboot is a reset; a Soft one asks the operating system, in one
// request where the BMC offers it (Redfish GracefulRestart), otherwise as an ACPI shutdown followed by power on —
// cutting power after a grace period if the OS does not react.
import { setTimeout as sleep } from 'node:timers/promises';
import { PowerError, type PowerDriver, type PowerMode } from './driver.js';

export interface RebootOptions {
  /** How long a soft shutdown may take before power is cut. */
  softTimeoutMs: number;
  pollMs: number;
}

export async function reboot(driver: PowerDriver, mode: PowerMode, options: RebootOptions): Promise<'reset' | 'restarted' | 'power-cycled' | 'powered-on'> {
  const state = driver.capabilities.readPowerState ? await driver.powerState() : 'Unknown';
  if (state === 'Off') {
    await driver.powerOn();
    return 'powered-on';
  }
  if (!driver.capabilities.reset && !driver.capabilities.powerOff) {
    throw new PowerError('Unsupported', `the ${driver.kind} driver can only power a machine on; it cannot reboot it`);
  }
  if (mode === 'Hard' && driver.capabilities.reset) {
    await driver.reset('Hard');
    return 'reset';
  }
  if (mode === 'Soft' && driver.capabilities.softReset) {
    try {
      await driver.reset('Soft');
      return 'restarted';
    } catch (err) {
      if (!(err instanceof PowerError) || err.kind !== 'Unsupported') throw err;
    }
  }
  await driver.powerOff(mode);
  if (mode === 'Soft') {
    const deadline = Date.now() + options.softTimeoutMs;
    while ((await driver.powerState()) !== 'Off') {
      if (Date.now() >= deadline) {
        await driver.powerOff('Hard');
        break;
      }
      await sleep(options.pollMs);
    }
  }
  await driver.powerOn();
  return 'power-cycled';
}
