// d-i's progress, from its own log: main-menu runs one installer step (a udeb's menu item) at a time and logs
// "Menu item 'X' selected" when it starts one, "Configuring 'X' failed with error code N" / "Menu item 'X' failed."
// when one fails (main-menu.c). A step has finished when the next one starts. Each becomes an installer event in the
// shape the webhook takes (start/finish of a named phase), so a Debian install shows the same timeline as Ubuntu's.
import type { InstallerEvent } from '@anvil/core/install';
import type { SyslogMessage } from './syslog-message.js';

/** The phases a person recognises, by main-menu item; any other item keeps its package name. */
export const D_I_STEPS: Readonly<Record<string, string>> = {
  localechooser: 'choosing the language',
  'console-setup-udeb': 'configuring the keyboard',
  'kbd-chooser': 'configuring the keyboard',
  ethdetect: 'detecting network hardware',
  netcfg: 'configuring the network',
  'choose-mirror': 'choosing a Debian mirror',
  'download-installer': 'loading installer components',
  'user-setup-udeb': 'setting up users and passwords',
  'clock-setup': 'configuring the clock',
  'disk-detect': 'detecting disks',
  'partman-base': 'partitioning disks',
  'bootstrap-base': 'installing the base system',
  'apt-setup-udeb': 'configuring the package manager',
  pkgsel: 'selecting and installing software',
  'grub-installer': 'installing the GRUB boot loader',
  nobootloader: 'continuing without a boot loader',
  'finish-install': 'finishing the installation',
};

export const D_I_ORIGIN = 'd-i-syslog';
const PHASE_PREFIX = 'debian-installer';

/**
 * Failures a step only logs: it then shows an error and waits for a person, so main-menu never says it failed.
 * choose-mirror logs these (choose-mirror.c) before it shows mirror/bad or mirror/noarch.
 */
const STEP_FAILURES: Readonly<Record<string, RegExp>> = {
  'choose-mirror': /^WARNING \*\*: ((?:mirror does not support the specified release|broken mirror: |architecture not supported by selected mirror).{0,200})$/,
};

const SELECTED = /Menu item '([^']{1,128})' selected/;
const FAILED = /(?:Configuring '([^']{1,128})' failed with error code (-?\d+)|Menu item '([^']{1,128})' failed\.)/;
const LEFT_UNCONFIGURED = /Menu item '([^']{1,128})' succeeded but requested to be left unconfigured/;

/** Follows one machine's d-i log; `next` returns the installer events a message means (often none). */
export class DebianInstallerProgress {
  private current: string | undefined;
  private readonly failed = new Set<string>();

  next(msg: SyslogMessage, receivedAt: number): InstallerEvent[] {
    const timestamp = receivedAt / 1000;
    if (msg.app !== 'main-menu') return this.inferred(msg.app, timestamp, msg.text);
    const selected = SELECTED.exec(msg.text);
    if (selected) {
      const item = selected[1]!;
      const events = this.current && this.current !== item && !this.failed.has(this.current) ? [this.finish(this.current, 'SUCCESS', timestamp)] : [];
      this.current = item;
      this.failed.delete(item);
      return [...events, event(item, 'start', timestamp)];
    }
    const failed = FAILED.exec(msg.text);
    if (failed) {
      const item = failed[1] ?? failed[3]!;
      if (this.failed.has(item)) return [];
      this.failed.add(item);
      const code = failed[2] !== undefined ? ` (error code ${failed[2]})` : '';
      return [{ ...event(item, 'finish', timestamp), result: 'FAIL', level: 'ERROR', description: `${describe(item)} failed${code}` }];
    }
    const left = LEFT_UNCONFIGURED.exec(msg.text)?.[1];
    if (left !== undefined && left === this.current) {
      this.current = undefined;
      return [{ ...event(left, 'finish', timestamp), result: 'WARN', description: `${describe(left)}: went back to the menu` }];
    }
    return [];
  }

  /**
   * syslogd forwards nothing before the network is up, so main-menu's "netcfg selected" is never received: a step's own
   * program logging while no step is known to run means that step runs.
   */
  private inferred(app: string, timestamp: number, text: string): InstallerEvent[] {
    const failure = STEP_FAILURES[app]?.exec(text)?.[1];
    if (failure !== undefined && this.current === app && !this.failed.has(app)) {
      this.failed.add(app);
      return [{ ...event(app, 'finish', timestamp), result: 'FAIL', level: 'ERROR', description: `${describe(app)} failed: ${failure}` }];
    }
    if (this.current !== undefined || !(app in D_I_STEPS) || this.failed.has(app)) return [];
    this.current = app;
    return [event(app, 'start', timestamp)];
  }

  private finish(item: string, result: 'SUCCESS', timestamp: number): InstallerEvent {
    return { ...event(item, 'finish', timestamp), result };
  }
}

const describe = (item: string): string => D_I_STEPS[item] ?? item;

const event = (item: string, type: 'start' | 'finish', timestamp: number): InstallerEvent => ({
  name: `${PHASE_PREFIX}/${item}`,
  event_type: type,
  description: describe(item),
  origin: D_I_ORIGIN,
  timestamp,
  level: 'INFO',
});
