// A Proxmox VE virtual machine as a host: /nodes/{node}/qemu/{vmid}/status/{current,start,stop,shutdown,reset}
// through anvil's Proxmox client, with the connection from the credentials Secret (keys url, token, optional
// ca.crt). Proxmox has no "boot from the network once": give the VM the network as first boot device; anvil's
// boot-server tells it to boot from its disk whenever no install is wanted.
import { ProxmoxClient } from '../proxmox/client.js';
import { ProxmoxError } from '../proxmox/errors.js';
import type { PowerAction } from '../proxmox/ports.js';
import { PowerError, type BmcCredentials, type DriverCapabilities, type PowerDriver, type PowerMode, type PowerState } from './driver.js';

export interface ProxmoxPowerOptions {
  node: string;
  vmid: number;
  credentials: BmcCredentials;
  insecureTLS: boolean;
  timeoutMs: number;
}

export class ProxmoxPowerDriver implements PowerDriver {
  readonly kind = 'proxmox';
  readonly capabilities: DriverCapabilities = { readPowerState: true, powerOff: true, reset: true, softReset: false, bootOnce: false };
  private readonly client: ProxmoxClient;

  constructor(private readonly options: ProxmoxPowerOptions) {
    const { url, token } = options.credentials;
    if (!url || !token) {
      throw new PowerError('InvalidConfig', 'the credentials Secret needs "url" (e.g. https://pve.example:8006) and "token" (USER@REALM!TOKENID=SECRET) for proxmox', 'InvalidCredentialsSecret');
    }
    try {
      new URL(url);
    } catch {
      throw new PowerError('InvalidConfig', `the credentials Secret's "url" (${url}) is not a URL`, 'InvalidCredentialsSecret');
    }
    const ca = options.credentials['ca.crt'];
    try {
      this.client = new ProxmoxClient({
        url,
        node: options.node,
        token: token.replace(/^PVEAPIToken=/, ''),
        ...(ca ? { ca } : {}),
        insecureSkipTLSVerify: options.insecureTLS,
        requestTimeoutMs: options.timeoutMs,
      });
    } catch (err) {
      throw this.translate(err);
    }
  }

  private get where(): string {
    return `Proxmox VM ${this.options.vmid} on node ${this.options.node}`;
  }

  async validate(): Promise<void> {
    await this.powerState();
  }

  async powerState(): Promise<PowerState> {
    try {
      const status = await this.client.vmStatus(this.options.vmid);
      return status.status === 'running' ? 'On' : 'Off';
    } catch (err) {
      throw this.translate(err);
    }
  }

  powerOn(): Promise<void> {
    return this.action('start');
  }

  powerOff(mode: PowerMode): Promise<void> {
    return this.action(mode === 'Soft' ? 'shutdown' : 'stop');
  }

  async reset(mode: PowerMode): Promise<void> {
    if (mode === 'Soft') throw new PowerError('Unsupported', 'soft restart of a Proxmox VM is done as shutdown + start');
    await this.action('reset');
  }

  async setNextBootNetwork(): Promise<void> {
    throw new PowerError('Unsupported', 'Proxmox cannot boot a VM from the network once; put the network first in the VM boot order');
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => undefined);
  }

  /** Starts the task and follows it, so a refused start (e.g. a missing bridge) is reported, not lost. */
  private async action(action: PowerAction): Promise<void> {
    try {
      const upid = await this.client.powerAction(this.options.vmid, action);
      const result = await this.client.waitForTask(upid, { intervalMs: 250, timeoutMs: this.options.timeoutMs });
      if (!result.ok) throw new PowerError('Protocol', `${this.where}: ${action} failed: ${result.exitStatus}`);
    } catch (err) {
      throw this.translate(err);
    }
  }

  private translate(err: unknown): unknown {
    if (!(err instanceof ProxmoxError)) return err;
    const what = `${this.where}: ${err.pveMessage}`;
    switch (err.code) {
      case 'auth':
        return new PowerError('Unauthorized', `${this.where}: the API token was refused (${err.pveMessage})`);
      case 'permission':
        return new PowerError('Unauthorized', `${this.where}: the API token lacks a privilege (${err.pveMessage}); it needs VM.Audit and VM.PowerMgmt`, 'Forbidden');
      case 'not-found':
        return new PowerError('InvalidConfig', `${this.where} does not exist (${err.pveMessage})`, 'VMNotFound');
      case 'tls':
        return new PowerError('Unreachable', `${what}; add ca.crt to the credentials Secret or set spec.bmc.disableCertificateVerification`, 'CertificateNotTrusted');
      case 'network':
        return err.pveMessage === 'request timed out' ? new PowerError('Timeout', `${this.where}: the API did not answer within ${this.options.timeoutMs / 1000} s`) : new PowerError('Unreachable', what);
      case 'unavailable':
        // PVE reports refusals such as "VM 100 not running" as a plain 500; only proxy and node errors mean unreachable.
        return err.status === 500 ? new PowerError('Protocol', what) : new PowerError('Unreachable', what);
      default:
        return new PowerError('Protocol', what);
    }
  }
}
