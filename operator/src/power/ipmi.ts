// IPMI over LAN (RMCP+) through Debian's ipmitool rather than a hand-written RMCP+ stack. The password travels in
// the IPMI_PASSWORD environment variable (-E): a process's environment is readable only by its owner, its command
// line by every local user. ipmitool's verbose diagnostics tell a wrong password from a BMC that never answers.
import type { BootMode } from '@anvil/core/api';
import { PowerError, type BmcCredentials, type DriverCapabilities, type PowerDriver, type PowerMode, type PowerState } from './driver.js';
import { spawnCommand, type CommandResult, type CommandRunner } from './command.js';

export interface IpmiTarget {
  host: string;
  port: number;
  cipherSuite: number;
}

export interface IpmiOptions {
  target: IpmiTarget;
  credentials: BmcCredentials;
  bootMode: BootMode;
  timeoutMs: number;
  run?: CommandRunner;
  ipmitool?: string;
}

export class IpmiDriver implements PowerDriver {
  readonly kind = 'ipmi';
  readonly capabilities: DriverCapabilities = { readPowerState: true, powerOff: true, reset: true, softReset: false, bootOnce: true };
  private readonly run: CommandRunner;
  private readonly username: string;
  private readonly password: string;

  constructor(private readonly options: IpmiOptions) {
    this.run = options.run ?? spawnCommand;
    const { username, password } = options.credentials;
    if (password === undefined) throw new PowerError('InvalidConfig', 'the credentials Secret has no "password" key (IPMI needs username and password)');
    this.username = username ?? '';
    this.password = password;
  }

  private get where(): string {
    const { host, port } = this.options.target;
    return `IPMI BMC ${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  async validate(): Promise<void> {
    await this.powerState();
  }

  async powerState(): Promise<PowerState> {
    const out = await this.ipmitool(['power', 'status']);
    const m = /Chassis Power is (on|off)/i.exec(out);
    if (!m) throw new PowerError('Protocol', `${this.where} answered "power status" with "${out.trim().slice(0, 200)}"`);
    return m[1]!.toLowerCase() === 'on' ? 'On' : 'Off';
  }

  async powerOn(): Promise<void> {
    await this.ipmitool(['power', 'on']);
  }

  async powerOff(mode: PowerMode): Promise<void> {
    await this.ipmitool(['power', mode === 'Soft' ? 'soft' : 'off']);
  }

  async reset(mode: PowerMode): Promise<void> {
    if (mode === 'Soft') throw new PowerError('Unsupported', 'IPMI has no operating-system restart; use a soft power off followed by power on');
    await this.ipmitool(['power', 'reset']);
  }

  async setNextBootNetwork(): Promise<void> {
    // Without options=persistent the boot flags apply to the next boot only.
    await this.ipmitool(['chassis', 'bootdev', 'pxe', ...(this.options.bootMode === 'UEFI' ? ['options=efiboot'] : [])]);
  }

  async close(): Promise<void> {}

  private async ipmitool(command: string[]): Promise<string> {
    const { host, port, cipherSuite } = this.options.target;
    const { perTry, tries } = ipmitoolRetries(this.options.timeoutMs);
    const args = ['-v', '-I', 'lanplus', '-C', String(cipherSuite), '-H', host, '-p', String(port), '-U', this.username, '-E', '-N', String(perTry), '-R', String(tries), ...command];
    const result = await this.run(this.options.ipmitool ?? 'ipmitool', args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', IPMI_PASSWORD: this.password },
      timeoutMs: this.options.timeoutMs,
    });
    if (result.code === 0 && !result.timedOut) return result.stdout;
    throw classifyIpmiFailure(result, { where: this.where, username: this.username, cipherSuite, command: command.join(' '), timeoutMs: this.options.timeoutMs });
  }
}

/**
 * ipmitool's own retries (-N seconds for the first try, one more for each further -R try, for each of the two
 * session-setup phases), sized so that a BMC that never answers is reported as unreachable by ipmitool before our
 * overall limit kills it (which reports a timeout).
 */
export function ipmitoolRetries(timeoutMs: number): { perTry: number; tries: number } {
  const budget = (timeoutMs / 1000) * 0.8;
  if (budget >= 6) return { perTry: Math.max(1, Math.floor((budget - 2) / 4)), tries: 2 };
  return { perTry: Math.max(1, Math.floor(budget / 2)), tries: 1 };
}

/** Turns ipmitool's exit and diagnostics into a PowerError a user can act on. */
export function classifyIpmiFailure(
  result: CommandResult,
  ctx: { where: string; username: string; cipherSuite: number; command: string; timeoutMs: number },
): PowerError {
  const { where, username, cipherSuite } = ctx;
  if (result.spawnError) {
    return result.spawnError.code === 'ENOENT'
      ? new PowerError('Unsupported', 'ipmitool is not installed in the operator image (Debian package ipmitool)')
      : new PowerError('Protocol', `could not run ipmitool: ${result.spawnError.message}`);
  }
  if (result.timedOut) return new PowerError('Timeout', `${where} did not complete "${ctx.command}" within ${ctx.timeoutMs / 1000} s`);
  const text = `${result.stderr}\n${result.stdout}`;
  const user = username ? `user "${username}"` : 'the anonymous user';
  if (/RAKP 2 HMAC is invalid|RAKP 4 message has invalid integrity check/i.test(text)) return new PowerError('Unauthorized', `${where} refused the password of ${user}`);
  if (/unauthorized name/i.test(text)) return new PowerError('Unauthorized', `${where} does not know ${user}`);
  if (/insufficient privilege|requested privilege level|privilege level .*exceeds/i.test(text)) {
    return new PowerError('Unauthorized', `${where}: ${user} lacks the privilege for "${ctx.command}" (needs OPERATOR or ADMINISTRATOR)`);
  }
  if (/invalid (authentication|integrity|confidentiality) algorithm|no matching cipher suite/i.test(text)) {
    return new PowerError('Unsupported', `${where} does not support IPMI cipher suite ${cipherSuite}; choose another with ?cipherSuite=N in spec.bmc.address (3 and 17 are common)`);
  }
  const lookup = /Address lookup for (\S+) failed/i.exec(text);
  if (lookup) return new PowerError('Unreachable', `${where}: cannot resolve host name ${lookup[1]}`);
  if (/Get Auth Capabilities error|Error issuing Get Channel Authentication Capabilities|No response from remote controller|Could not open socket/i.test(text)) {
    return new PowerError('Unreachable', `${where} does not answer (BMC off the network, wrong address or port, or a firewall)`);
  }
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^Loading IANA|^Running Get VSO|^Invalid completion code received: Invalid command$|^Discovered IPMB/.test(l));
  return new PowerError('Protocol', `${where} failed "${ctx.command}": ${lines.slice(-2).join('; ') || `ipmitool exited with ${result.code}`}`);
}
