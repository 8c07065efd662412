// An in-memory machine behind the PowerDriver interface, for unit tests (as metal3's fixture provisioner): it
// records every call, follows power actions, and can be told to fail or to hang.
import { PowerError, type DriverCapabilities, type PowerDriver, type PowerMode, type PowerState } from './driver.js';

export type FixtureCall = 'validate' | 'powerState' | 'powerOn' | 'powerOff:Soft' | 'powerOff:Hard' | 'reset:Soft' | 'reset:Hard' | 'setNextBootNetwork';

export class FixtureMachine {
  power: PowerState = 'Off';
  nextBoot: 'Network' | 'Default' = 'Default';
  /** Boots so far and what each booted from. */
  readonly boots: ('Network' | 'Disk')[] = [];
  readonly calls: FixtureCall[] = [];
  /** When set, every call fails with this error. */
  failure: PowerError | undefined;
  /** Delay every call by this many milliseconds. */
  delayMs = 0;
  /** A soft power off is ignored (an OS that does not react to ACPI). */
  ignoresSoftOff = false;

  boot(): void {
    this.boots.push(this.nextBoot === 'Network' ? 'Network' : 'Disk');
    this.nextBoot = 'Default';
    this.power = 'On';
  }
}

export class FixtureDriver implements PowerDriver {
  readonly kind = 'fixture';

  constructor(
    readonly machine: FixtureMachine = new FixtureMachine(),
    readonly capabilities: DriverCapabilities = { readPowerState: true, powerOff: true, reset: true, softReset: false, bootOnce: true },
  ) {}

  private async call(name: FixtureCall): Promise<void> {
    this.machine.calls.push(name);
    if (this.machine.delayMs) await new Promise((r) => setTimeout(r, this.machine.delayMs));
    if (this.machine.failure) throw this.machine.failure;
  }

  async validate(): Promise<void> {
    await this.call('validate');
  }

  async powerState(): Promise<PowerState> {
    await this.call('powerState');
    return this.capabilities.readPowerState ? this.machine.power : 'Unknown';
  }

  async powerOn(): Promise<void> {
    await this.call('powerOn');
    if (this.machine.power !== 'On') this.machine.boot();
  }

  async powerOff(mode: PowerMode): Promise<void> {
    await this.call(`powerOff:${mode}`);
    if (!this.capabilities.powerOff) throw new PowerError('Unsupported', 'this fixture cannot power off');
    if (mode === 'Soft' && this.machine.ignoresSoftOff) return;
    this.machine.power = 'Off';
  }

  async reset(mode: PowerMode): Promise<void> {
    await this.call(`reset:${mode}`);
    if (!this.capabilities.reset || (mode === 'Soft' && !this.capabilities.softReset)) throw new PowerError('Unsupported', `this fixture cannot reset (${mode})`);
    this.machine.boot();
  }

  async setNextBootNetwork(): Promise<void> {
    await this.call('setNextBootNetwork');
    if (!this.capabilities.bootOnce) throw new PowerError('Unsupported', 'this fixture cannot set the boot device');
    this.machine.nextBoot = 'Network';
  }

  async close(): Promise<void> {}
}
