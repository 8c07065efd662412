// Wake-on-LAN: a magic packet (6 x 0xFF, then the boot MAC 16 times) to a broadcast address. It can only switch a
// machine on, gets no answer, and cannot set a boot device: the power state stays Unknown.
import { normalizeMac } from '@anvil/core/bootconfig';
import { PowerError, type DriverCapabilities, type PowerDriver, type PowerState } from './driver.js';
import { sendBroadcastDatagram, type DatagramSender } from './udp.js';

export interface WolOptions {
  mac: string;
  broadcast: string;
  port: number;
  send?: DatagramSender;
}

export function magicPacket(mac: string): Buffer {
  const normalized = normalizeMac(mac);
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(normalized)) throw new PowerError('InvalidConfig', `"${mac}" is not a MAC address`);
  const bytes = Buffer.from(normalized.split(':').map((h) => parseInt(h, 16)));
  return Buffer.concat([Buffer.alloc(6, 0xff), ...Array.from({ length: 16 }, () => bytes)]);
}

export class WolDriver implements PowerDriver {
  readonly kind = 'wol';
  readonly capabilities: DriverCapabilities = { readPowerState: false, powerOff: false, reset: false, softReset: false, bootOnce: false };
  private readonly packet: Buffer;

  constructor(private readonly options: WolOptions) {
    this.packet = magicPacket(options.mac);
  }

  async validate(): Promise<void> {}

  async powerState(): Promise<PowerState> {
    return 'Unknown';
  }

  async powerOn(): Promise<void> {
    const { broadcast, port } = this.options;
    try {
      await (this.options.send ?? sendBroadcastDatagram)(this.packet, broadcast, port);
    } catch (err) {
      throw new PowerError('Unreachable', `could not send the Wake-on-LAN packet to ${broadcast}:${port}: ${(err as Error).message}`);
    }
  }

  async powerOff(): Promise<void> {
    throw new PowerError('Unsupported', 'Wake-on-LAN can only power a machine on');
  }

  async reset(): Promise<void> {
    throw new PowerError('Unsupported', 'Wake-on-LAN cannot reset a machine');
  }

  async setNextBootNetwork(): Promise<void> {
    throw new PowerError('Unsupported', 'Wake-on-LAN cannot choose the boot device; make the network the first boot device in the firmware');
  }

  async close(): Promise<void> {}
}
