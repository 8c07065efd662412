// Runs OpenIPMI's ipmi_sim (Debian package openipmi) as a LAN BMC on loopback. Its chassis control program is a
// small shell script that keeps the machine's power and boot device in files, and records every boot with the device
// it booted from (a "next boot" setting is used once, as a real BMC does).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface IpmiSim {
  port: number;
  dir: string;
  power(): 'on' | 'off';
  /** Every boot so far, with what it booted from: pxe or default. */
  boots(): string[];
  /** The chassis-control calls ipmi_sim made, e.g. "set power 1". */
  calls(): string[];
  /** Whether the simulated OS reacts to a soft (ACPI) shutdown. */
  setHonoursAcpi(honours: boolean): void;
  stop(): Promise<void>;
}

export function ipmiSimAvailable(): string | undefined {
  for (const tool of ['ipmi_sim', 'ipmitool']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (run scripts/setup.sh: Debian packages openipmi and ipmitool)`;
  }
  return undefined;
}

const CHASSIS_SCRIPT = `#!/bin/sh
# ipmi_sim chassis control: $1 = MC address, $2 = get|set|check, then parameters.
dir="$(dirname "$0")/state"
shift
op="$1"; shift
echo "$op $*" >> "$dir/calls"
power() { cat "$dir/power" 2>/dev/null || echo 0; }
boot_now() {
  dev=$(cat "$dir/boot" 2>/dev/null || echo default)
  echo "$dev" >> "$dir/boots"
  echo default > "$dir/boot"
}
case "$op" in
  get)
    for p in "$@"; do
      case "$p" in
        power) echo "power:$(power)" ;;
        boot) echo "boot:$(cat "$dir/boot" 2>/dev/null || echo default)" ;;
        *) echo "unknown parameter $p"; exit 1 ;;
      esac
    done ;;
  set)
    while [ -n "$1" ]; do
      p="$1"; v="$2"; shift 2
      case "$p" in
        power) if [ "$v" = 1 ] && [ "$(power)" = 0 ]; then boot_now; fi; echo "$v" > "$dir/power" ;;
        reset) if [ "$(power)" = 1 ]; then boot_now; fi ;;
        shutdown) if [ -e "$dir/honours-acpi" ]; then echo 0 > "$dir/power"; fi ;;
        boot) echo "$v" > "$dir/boot" ;;
        *) ;;
      esac
    done ;;
  *) exit 1 ;;
esac
`;

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

export async function startIpmiSim(options: { username: string; password: string; powerOn?: boolean }): Promise<IpmiSim> {
  const dir = mkdtempSync(join(tmpdir(), 'anvil-ipmisim-'));
  const state = join(dir, 'state');
  mkdirSync(state);
  writeFileSync(join(state, 'power'), options.powerOn ? '1\n' : '0\n');
  writeFileSync(join(state, 'honours-acpi'), '');
  const script = join(dir, 'chassis.sh');
  writeFileSync(script, CHASSIS_SCRIPT);
  chmodSync(script, 0o755);
  const port = await freeUdpPort();
  writeFileSync(
    join(dir, 'lan.conf'),
    `name "anvil"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "${script} 0x20"
  user 1 false "" "unused" user 10 none md2 md5 straight
  user 2 true "${options.username}" "${options.password}" admin 10 none md2 md5 straight
`,
  );
  writeFileSync(join(dir, 'bmc.emu'), 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nsel_enable 0x20 1000 0x0a\nmc_enable 0x20\n');
  const child: ChildProcess = spawn('ipmi_sim', ['-c', join(dir, 'lan.conf'), '-f', join(dir, 'bmc.emu'), '-s', join(dir, 'persist'), '-n'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // Ready once it answers a real RMCP+ request.
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`ipmi_sim exited with ${child.exitCode}: ${stderr}`);
    const probe = spawnSync('ipmitool', ['-I', 'lanplus', '-C', '3', '-H', '127.0.0.1', '-p', String(port), '-U', options.username, '-E', '-N', '1', '-R', '1', 'mc', 'info'], {
      env: { ...process.env, IPMI_PASSWORD: options.password },
    });
    if (probe.status === 0) break;
    if (Date.now() > deadline) throw new Error(`ipmi_sim did not answer on port ${port}: ${stderr} ${probe.stderr.toString()}`);
    await sleep(200);
  }
  const lines = (file: string): string[] => (existsSync(join(state, file)) ? readFileSync(join(state, file), 'utf8').split('\n').filter(Boolean) : []);
  return {
    port,
    dir,
    power: () => (readFileSync(join(state, 'power'), 'utf8').trim() === '1' ? 'on' : 'off'),
    boots: () => lines('boots'),
    calls: () => lines('calls'),
    setHonoursAcpi: (honours) => (honours ? writeFileSync(join(state, 'honours-acpi'), '') : rmSync(join(state, 'honours-acpi'), { force: true })),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
