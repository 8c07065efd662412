import { parseBmcAddress } from './address.js';
import { PowerError } from './driver.js';

describe('parseBmcAddress', () => {
  it.each([
    ['ipmi://10.0.0.5', { scheme: 'ipmi', host: '10.0.0.5', port: 623, cipherSuite: 3 }],
    ['ipmi://bmc.lab:6230?cipherSuite=17', { scheme: 'ipmi', host: 'bmc.lab', port: 6230, cipherSuite: 17 }],
    ['ipmi://[fd00::5]', { scheme: 'ipmi', host: 'fd00::5', port: 623, cipherSuite: 3 }],
    ['redfish://10.0.0.6/redfish/v1/Systems/System.Embedded.1', { scheme: 'redfish', origin: 'https://10.0.0.6:443', systemPath: '/redfish/v1/Systems/System.Embedded.1', auth: 'auto' }],
    ['redfish+http://sim:8000/redfish/v1/Systems/1/?auth=basic', { scheme: 'redfish', origin: 'http://sim:8000', systemPath: '/redfish/v1/Systems/1', auth: 'basic' }],
    ['redfish://10.0.0.6', { scheme: 'redfish', origin: 'https://10.0.0.6:443', systemPath: undefined, auth: 'auto' }],
    ['wol://', { scheme: 'wol', broadcast: '255.255.255.255', port: 9 }],
    ['wol://192.168.1.255:7', { scheme: 'wol', broadcast: '192.168.1.255', port: 7 }],
    ['proxmox://pve1/104', { scheme: 'proxmox', node: 'pve1', vmid: 104 }],
  ])('%s', (address, expected) => {
    expect(parseBmcAddress(address)).toEqual(expected);
  });

  it.each([
    ['10.0.0.5', /has no scheme/],
    ['idrac://10.0.0.5', /unknown scheme "idrac"/],
    ['ipmi://admin:pw@10.0.0.5', /contains credentials/],
    ['ipmi://10.0.0.5:70000', /not a valid URL|invalid port/],
    ['ipmi://10.0.0.5?cipher=3', /unknown parameter "cipher"/],
    ['redfish://10.0.0.6/redfish/v1/Chassis/1', /not \/redfish\/v1\/Systems\/<id>/],
    ['redfish://10.0.0.6?auth=token', /invalid auth "token"/],
    ['wol://lan.example', /give an IPv4 address/],
    ['proxmox://pve1/abc', /as VM id/],
    ['proxmox:///104', /no node name/],
  ])('refuses %s with a clear message', (address, message) => {
    let err: unknown;
    try {
      parseBmcAddress(address);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PowerError);
    expect((err as PowerError).kind).toBe('InvalidConfig');
    expect((err as PowerError).message).toMatch(message);
    expect((err as PowerError).message).toMatch(/expected one of ipmi:\/\//);
  });
});
