import { DhcpOption } from './codes.js';
import { decide, type Decision, type ProxyDhcpPolicy, type Via } from './decide.js';
import { encodeDhcp, parseDhcp } from './packet.js';
import { answerProblems, clients, rawRequest } from './testing/requests.js';

const KNOWN = '52:54:00:00:00:01';
const STRANGER = '52:54:00:00:00:99';
const SERVER = '10.20.0.2';
const policy: ProxyDhcpPolicy = {
  serverAddress: SERVER,
  httpBaseURL: 'http://10.20.0.2:8080',
  answerUnknown: false,
  bootFiles: { bios: 'undionly.kpxe', uefiX64: 'snponly.efi' },
};
const known = (mac: string): boolean => mac === KNOWN;

function run(request: Buffer, via: Via = 'dhcp', p: ProxyDhcpPolicy = policy): Decision {
  const parsed = parseDhcp(request);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return decide(parsed.packet, via, known, p);
}

/** The decision's answer on the wire, checked against the PXE spec's rules, parsed back. */
function answer(request: Buffer, via: Via = 'dhcp', p: ProxyDhcpPolicy = policy) {
  const d = run(request, via, p);
  if (d.action !== 'reply') throw new Error(`ignored: ${d.reason}`);
  const wire = encodeDhcp(d.reply);
  expect(answerProblems(wire, request, SERVER)).toEqual([]);
  const back = parseDhcp(wire);
  if (!back.ok) throw new Error(back.error.message);
  return { decision: d, packet: back.packet, wire };
}

describe('decide: what each client gets', () => {
  it('BIOS PXE ROM: an OFFER of undionly.kpxe over TFTP from us, with discovery control', () => {
    const { decision, packet } = answer(clients.biosPxeRom(KNOWN));
    expect(decision).toMatchObject({ kind: 'offer', client: 'firmware', arch: 0, bootFile: 'undionly.kpxe', mac: KNOWN });
    expect(packet).toMatchObject({ file: 'undionly.kpxe', siaddr: SERVER, yiaddr: '0.0.0.0', ciaddr: '0.0.0.0', flags: 0x8000 });
    expect(packet.options.get(DhcpOption.MessageType)).toEqual(Buffer.from([2]));
    expect(packet.options.get(DhcpOption.VendorSpecific)).toEqual(Buffer.from([6, 1, 8, 255]));
    expect(packet.options.get(DhcpOption.VendorClass)?.toString()).toBe('PXEClient');
  });

  it('iPXE (second DHCP): the HTTP entry script, whatever its architecture', () => {
    const { decision, packet } = answer(clients.ipxe(KNOWN));
    expect(decision).toMatchObject({ client: 'ipxe', bootFile: 'http://10.20.0.2:8080/boot.ipxe' });
    expect(packet.file).toBe('http://10.20.0.2:8080/boot.ipxe');
    expect(packet.options.has(DhcpOption.VendorSpecific)).toBe(false);
  });

  it('OVMF x86-64 UEFI: snponly.efi (or the configured UEFI file)', () => {
    expect(answer(clients.ovmfX64(KNOWN)).packet.file).toBe('snponly.efi');
    expect(answer(clients.ovmfX64(KNOWN), 'dhcp', { ...policy, bootFiles: { ...policy.bootFiles, uefiX64: 'ipxe.efi' } }).packet.file).toBe('ipxe.efi');
  });

  it('arm64 UEFI: nothing unless an arm64 binary is configured', () => {
    expect(run(clients.arm64Uefi(KNOWN))).toMatchObject({ action: 'ignore', reason: 'unsupported-arch', detail: 'client architecture 11' });
    const withArm = { ...policy, bootFiles: { ...policy.bootFiles, arm64: 'arm64-efi/snponly.efi' } };
    expect(answer(clients.arm64Uefi(KNOWN), 'dhcp', withArm).packet.file).toBe('arm64-efi/snponly.efi');
  });

  it('UEFI HTTP boot: the configured URL with vendor class HTTPClient, nothing without one', () => {
    expect(run(clients.httpBoot(KNOWN))).toMatchObject({ action: 'ignore', reason: 'unsupported-arch' });
    const url = 'http://10.20.0.2:8080/ipxe/snponly.efi';
    const { decision, packet } = answer(clients.httpBoot(KNOWN), 'dhcp', { ...policy, bootFiles: { ...policy.bootFiles, httpBootURL: url } });
    expect(decision).toMatchObject({ client: 'http-boot', bootFile: url });
    expect(packet.options.get(DhcpOption.VendorClass)?.toString()).toBe('HTTPClient');
  });

  it('a boot URL too long for the file field goes in option 67', () => {
    const base = `http://boot.example.com:8080/${'x'.repeat(120)}`;
    const { packet } = answer(clients.ipxe(KNOWN), 'dhcp', { ...policy, httpBaseURL: base });
    expect(packet.file).toBe('');
    expect(packet.options.get(DhcpOption.BootFileName)?.toString()).toBe(`${base}/boot.ipxe`);
  });

  it("iPXE's ProxyDHCPREQUEST on 4011: an ACK that keeps its ciaddr", () => {
    const { decision, packet } = answer(clients.ipxeProxyRequest(KNOWN, '10.20.0.150', SERVER), 'pxe');
    expect(decision).toMatchObject({ kind: 'ack', client: 'ipxe' });
    expect(packet.options.get(DhcpOption.MessageType)).toEqual(Buffer.from([5]));
    expect(packet.ciaddr).toBe('10.20.0.150');
  });
});

describe('decide: what is ignored', () => {
  it('unknown MACs, unless told to answer every machine', () => {
    expect(run(clients.biosPxeRom(STRANGER))).toMatchObject({ action: 'ignore', reason: 'unknown-mac', mac: STRANGER });
    expect(answer(clients.biosPxeRom(STRANGER), 'dhcp', { ...policy, answerUnknown: true }).decision.mac).toBe(STRANGER);
  });

  it('clients that are not PXE clients', () => {
    expect(run(rawRequest({ mac: KNOWN, options: [[60, 'MSFT 5.0']] }))).toMatchObject({ reason: 'not-pxe' });
    expect(run(rawRequest({ mac: KNOWN, options: [] }))).toMatchObject({ reason: 'not-pxe' });
    // an HTTP-boot architecture that says PXEClient is not an HTTP boot client
    const confused = rawRequest({ mac: KNOWN, options: [[93, [0, 16]], [60, 'PXEClient:Arch:00016']] });
    expect(run(confused, 'dhcp', { ...policy, bootFiles: { ...policy.bootFiles, httpBootURL: 'http://x/y.efi' } })).toMatchObject({ reason: 'not-pxe' });
  });

  it('the wrong message for the port: REQUEST on 67 belongs to the real DHCP server, DISCOVER never comes to 4011', () => {
    expect(run(clients.ipxeProxyRequest(KNOWN, '10.20.0.150', SERVER), 'dhcp')).toMatchObject({ reason: 'wrong-message' });
    expect(run(clients.biosPxeRom(KNOWN), 'pxe')).toMatchObject({ reason: 'wrong-message' });
    expect(answer(rawRequest({ mac: KNOWN, type: 8, ciaddr: '10.20.0.150', options: [[60, 'PXEClient']] }), 'pxe').decision.kind).toBe('ack');
  });

  it("a request on 4011 for another boot server, replies, non-Ethernet clients and malformed options", () => {
    expect(run(clients.ipxeProxyRequest(KNOWN, '10.20.0.150', '10.20.0.3'), 'pxe')).toMatchObject({ reason: 'other-server' });
    const reply = Buffer.from(clients.biosPxeRom(KNOWN));
    reply[0] = 2;
    expect(run(reply)).toMatchObject({ reason: 'not-request' });
    const ib = Buffer.from(clients.biosPxeRom(KNOWN));
    ib[1] = 32; // InfiniBand
    expect(run(ib)).toMatchObject({ reason: 'not-ethernet' });
    expect(run(rawRequest({ mac: KNOWN, options: [[60, 'PXEClient'], [93, [7]]] }))).toMatchObject({ reason: 'malformed', detail: expect.stringMatching(/option 93/) });
  });

  it('takes the architecture from the vendor class when option 93 is missing', () => {
    expect(answer(rawRequest({ mac: KNOWN, options: [[60, 'PXEClient:Arch:00007:UNDI:003000']] })).packet.file).toBe('snponly.efi');
    expect(answer(rawRequest({ mac: KNOWN, options: [[60, 'PXEClient']] })).packet.file).toBe('undionly.kpxe');
  });
});
