import { describe, expect, it } from '@jest/globals';
import { DebianInstallerProgress } from './d-i-progress.js';
import { parseSyslog, type SyslogMessage } from './syslog-message.js';

const msg = (line: string): SyslogMessage => {
  const m = parseSyslog(Buffer.from(line));
  if ('error' in m) throw new Error(m.error);
  return m;
};

describe('parseSyslog', () => {
  it('reads busybox syslogd forwarding (RFC 3164, no hostname)', () => {
    expect(msg("<13>Dec  7 06:01:02 main-menu[312]: INFO: Menu item 'netcfg' selected")).toEqual({
      facility: 1,
      severity: 5,
      timestamp: 'Dec  7 06:01:02',
      app: 'main-menu',
      text: "INFO: Menu item 'netcfg' selected",
    });
  });

  it('reads a hostname, a tag without pid, and no timestamp', () => {
    expect(msg('<30>Dec 17 06:01:02 node-01 netcfg: DHCP lease obtained')).toMatchObject({ hostname: 'node-01', app: 'netcfg', text: 'DHCP lease obtained' });
    expect(msg('<14>partman: mounting /target')).toMatchObject({ app: 'partman', text: 'mounting /target' });
    expect(msg('<14>just text')).toMatchObject({ app: '', text: 'just text' });
  });

  it('reads RFC 5424 with and without structured data', () => {
    expect(msg('<165>1 2026-12-07T06:01:02.003Z host1 main-menu 312 - - \uFEFFMenu item \'pkgsel\' selected')).toEqual({
      facility: 20,
      severity: 5,
      timestamp: '2026-12-07T06:01:02.003Z',
      hostname: 'host1',
      app: 'main-menu',
      text: "Menu item 'pkgsel' selected",
    });
    expect(msg('<165>1 - - app - ID47 [ex@1 a="b\\]c"] text')).toMatchObject({ app: 'app', text: 'text' });
  });

  it('refuses what is not syslog, never throwing', () => {
    expect(parseSyslog(Buffer.alloc(0))).toEqual({ error: 'empty datagram' });
    expect(parseSyslog(Buffer.from('hello'))).toEqual({ error: 'no syslog priority (<0>-<191>) at the start' });
    expect(parseSyslog(Buffer.from('<999>x'))).toEqual({ error: 'no syslog priority (<0>-<191>) at the start' });
    expect(parseSyslog(Buffer.from('<13>1 only-a-timestamp'))).toEqual({ error: 'RFC 5424 header incomplete' });
    expect(parseSyslog(Buffer.alloc(9000, 0x41))).toEqual({ error: 'datagram of 9000 bytes (limit 8192)' });
    expect(msg('<13>main-menu: a\u0000b\n')).toMatchObject({ text: 'a\uFFFDb' });
    // a seeded stream of random bytes: every datagram parses or is refused
    let seed = 42;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
      if (i % 2) bytes.write('<13>', 0);
      expect(() => parseSyslog(bytes)).not.toThrow();
    }
  });
});

describe("d-i's progress from main-menu's log", () => {
  const play = (lines: string[]) => {
    const progress = new DebianInstallerProgress();
    return lines.flatMap((line, i) => progress.next(msg(line), 1_765_000_000_000 + i * 1000)).map((e) => `${e.event_type} ${e.name}${e.result ? ` ${e.result}` : ''}: ${e.description}`);
  };

  it('turns each menu item into a phase that ends when the next one starts', () => {
    expect(
      play([
        "<13>main-menu[312]: INFO: Menu item 'localechooser' selected",
        '<13>localechooser: language=en',
        "<13>main-menu[312]: INFO: Menu item 'netcfg' selected",
        "<13>main-menu[312]: DEBUG: Menu item 'choose-mirror' selected",
        "<13>main-menu[312]: INFO: Menu item 'partman-base' selected",
      ]),
    ).toEqual([
      'start debian-installer/localechooser: choosing the language',
      'finish debian-installer/localechooser SUCCESS: choosing the language',
      'start debian-installer/netcfg: configuring the network',
      'finish debian-installer/netcfg SUCCESS: configuring the network',
      'start debian-installer/choose-mirror: choosing a Debian mirror',
      'finish debian-installer/choose-mirror SUCCESS: choosing a Debian mirror',
      'start debian-installer/partman-base: partitioning disks',
    ]);
  });

  it('reports a failed step once, with its error code, and does not call it a success when the menu moves on', () => {
    expect(
      play([
        "<13>main-menu[312]: INFO: Menu item 'choose-mirror' selected",
        "<12>main-menu[312]: WARNING **: Configuring 'choose-mirror' failed with error code 1",
        "<12>main-menu[312]: WARNING **: Menu item 'choose-mirror' failed.",
        "<13>main-menu[312]: INFO: Menu item 'save-logs' selected",
      ]),
    ).toEqual([
      'start debian-installer/choose-mirror: choosing a Debian mirror',
      'finish debian-installer/choose-mirror FAIL: choosing a Debian mirror failed (error code 1)',
      'start debian-installer/save-logs: save-logs',
    ]);
  });

  it('ignores other programs and unrelated main-menu lines', () => {
    expect(play(['<13>udhcpc: INFO: Menu item \'x\' selected', '<13>main-menu[312]: INFO: Falling back to the package description for foo'])).toEqual([]);
  });

  it("fails choose-mirror on the warning it logs before it shows its error (as the real d-i logs a mirror without the release)", () => {
    expect(
      play([
        "<14>Dec  7 06:26:20 main-menu[258]: INFO: Menu item 'choose-mirror' selected",
        "<15>Dec  7 06:26:21 choose-mirror[1955]: DEBUG: command: wget --no-verbose http://10.139.70.1:43217/debian/dists/stable/Release -O - | grep -E '^(Suite|Codename|Architectures):'",
        '<14>Dec  7 06:26:22 choose-mirror[1955]: INFO: mirror does not have any suite symlinks',
        '<12>Dec  7 06:26:22 choose-mirror[1955]: WARNING **: mirror does not support the specified release (bookworm)',
        '<12>Dec  7 06:26:40 choose-mirror[1955]: WARNING **: mirror does not support the specified release (bookworm)',
      ]),
    ).toEqual([
      'start debian-installer/choose-mirror: choosing a Debian mirror',
      'finish debian-installer/choose-mirror FAIL: choosing a Debian mirror failed: mirror does not support the specified release (bookworm)',
    ]);
  });

  it("takes a step's own log as its start when main-menu's was not received (sent before the network was up)", () => {
    expect(
      play([
        '<15>netcfg[493]: DEBUG: Reading nameservers from /etc/resolv.conf',
        '<15>netcfg[493]: DEBUG: State is now 2',
        "<13>main-menu[312]: INFO: Menu item 'choose-mirror' selected",
        '<13>netcfg[493]: late line of a finished step',
      ]),
    ).toEqual([
      'start debian-installer/netcfg: configuring the network',
      'finish debian-installer/netcfg SUCCESS: configuring the network',
      'start debian-installer/choose-mirror: choosing a Debian mirror',
    ]);
  });
});
