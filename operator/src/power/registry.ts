// Chooses the driver from the scheme of spec.bmc.address.
import { parseBmcAddress, type BmcAddress } from './address.js';
import type { CommandRunner } from './command.js';
import { PowerError, type DriverOptions, type PowerDriver } from './driver.js';
import { IpmiDriver } from './ipmi.js';
import { ProxmoxPowerDriver } from './proxmox.js';
import { RedfishDriver } from './redfish.js';
import type { DatagramSender } from './udp.js';
import { WolDriver } from './wol.js';

export interface DriverAdapters {
  /** Runs ipmitool (tests script it). */
  runCommand?: CommandRunner;
  /** Sends the Wake-on-LAN datagram (tests capture it). */
  sendDatagram?: DatagramSender;
}

export function createPowerDriver(options: DriverOptions, adapters: DriverAdapters = {}): PowerDriver {
  const address: BmcAddress = parseBmcAddress(options.address);
  const { credentials, timeoutMs, bootMode, insecureTLS } = options;
  switch (address.scheme) {
    case 'ipmi':
      return new IpmiDriver({ target: address, credentials, bootMode, timeoutMs, ...(adapters.runCommand ? { run: adapters.runCommand } : {}) });
    case 'redfish':
      return new RedfishDriver({ target: address, credentials, insecureTLS, bootMode, timeoutMs });
    case 'wol':
      return new WolDriver({ mac: options.bootMAC, broadcast: address.broadcast, port: address.port, ...(adapters.sendDatagram ? { send: adapters.sendDatagram } : {}) });
    case 'proxmox':
      return new ProxmoxPowerDriver({ node: address.node, vmid: address.vmid, credentials, insecureTLS, timeoutMs });
  }
}

/** Whether the scheme needs a credentials Secret at all. */
export function needsCredentials(address: string): boolean {
  try {
    return parseBmcAddress(address).scheme !== 'wol';
  } catch {
    return true;
  }
}

export { PowerError };
