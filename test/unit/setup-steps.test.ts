// The bash helpers of scripts/setup.sh and scripts/demo.sh (scripts/lib/): one line per step with the output in a log,
// failures that name the step and show the log, no system service left enabled by a package install, and the check
// of the project's Node.js. Each case runs real bash on the real scripts, in a temporary directory of its own.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const LIB = join(ROOT, 'scripts', 'lib');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'anvil-setup-steps-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stderr: string;
  stdout: string;
}

/** The environment of a step script: logs in `dir`, the plain (CI) form unless asked otherwise, UTF-8 marks. */
function stepsEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['LC_ALL', 'LC_CTYPE', 'ANVIL_SETUP_FAIL', 'STEPS_HEARTBEAT_FIRST', 'STEPS_HEARTBEAT_EVERY']) delete env[name];
  return { ...env, HOME: dir, ANVIL_STEPS_LOG_DIR: join(dir, 'logs'), ANVIL_STEPS_TTY: '0', LANG: 'C.UTF-8', ...extra };
}

function bash(script: string, extra: Record<string, string> = {}): Run {
  const r = spawnSync('bash', ['-c', `set -euo pipefail\nsource ${LIB}/steps.sh\nsource ${LIB}/system-services.sh\nsource ${LIB}/node.sh\n${script}`], {
    env: stepsEnv(extra),
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** A carriage return and "erase line" (how a line is redrawn) written as <clear>. */
const clearsShown = (s: string) => s.replaceAll('\r\x1b[K', '<clear>');

const latestLog = (name = 'setup') => readFileSync(join(dir, 'logs', `${name}-latest.log`), 'utf8');

describe('steps', () => {
  test('each step is one line on stderr; its output goes to the log only', () => {
    const r = bash(`steps_begin setup
step loud "a loud step" -- bash -c 'for i in $(seq 1 50); do echo "output line $i"; done; echo "a warning" >&2'
step_done quiet "a step with nothing to do" "already installed"
steps_end`);
    expect(r.status).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\[setup\] ✓ a loud step: \d+s$/);
    expect(lines[1]).toBe('[setup] ✓ a step with nothing to do: already installed');
    expect(lines[2]).toMatch(/^setup complete in \d+s \(log: ~\/logs\/setup-\d{8}-\d{6}-\d+\.log\)$/);
    expect(r.stderr).not.toContain('output line');
    const log = latestLog();
    expect(log).toContain('output line 1\n');
    expect(log).toContain('output line 50\n');
    expect(log).toContain('a warning\n');
    // The log named on the last line is the one holding the output.
    const shown = lines[2]!.match(/log: ~\/(\S+)\)/)![1]!;
    expect(readFileSync(join(dir, shown), 'utf8')).toBe(log);
  });

  test('a run where every step found its work done says so', () => {
    const r = bash(`steps_begin setup
step build "a build" --estimate 600 --cached-when '^\\[build\\] cached:' -- bash -c 'echo "[build] cached: /somewhere" >&2; echo /somewhere'
step_done apt "packages" "already installed"
steps_end`);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('[setup] ✓ a build: cached\n');
    expect(r.stderr).toMatch(/\nsetup complete in \d+s: everything was already in place\n$/);
  });

  test('a failing step names itself, points to the log, shows its last 30 lines and ends the script with its status', () => {
    const r = bash(`steps_begin setup
step first "a step that works" -- true
step broken "a broken step" -- bash -c 'for i in $(seq 1 100); do echo "line $i"; done; echo "the real error" >&2; exit 3'
echo "not reached" >&2`);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/\[setup\] ✗ a broken step: failed after \d+s \(exit 3\)\n/);
    const pointer = r.stderr.match(/step 'broken' failed; its full output is in ~\/(\S+)\. The last lines:/);
    expect(pointer).not.toBeNull();
    const log = readFileSync(join(dir, pointer![1]!), 'utf8');
    expect(log).toContain('line 1\n');
    const shown = r.stderr.split('\n').filter((l) => l.startsWith('    | ')).map((l) => l.slice(6));
    expect(shown).toHaveLength(30);
    expect(shown.at(-1)).toBe('the real error');
    expect(shown[0]).toBe('line 72');
    expect(r.stderr).not.toContain('not reached');
  });

  test('set -e holds inside a step: a function stops at its first failing command', () => {
    const r = bash(`two_commands() { false; echo "ran after false"; }
steps_begin setup
step fn "a function step" -- two_commands`);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("step 'fn' failed");
    expect(latestLog()).not.toContain('ran after false');
  });

  test('ANVIL_SETUP_FAIL=<id> makes that step fail without running it', () => {
    const marker = join(dir, 'ran');
    const r = bash(`steps_begin setup
step other "another step" -- true
step kube "the build" -- touch ${marker}`, { ANVIL_SETUP_FAIL: 'kube' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[setup] ✓ another step');
    expect(r.stderr).toContain("step 'kube' failed");
    expect(r.stderr).toContain('(this failure was simulated: ANVIL_SETUP_FAIL=kube)');
    expect(existsSync(marker)).toBe(false);
  });

  test('a failed check that is not a command fails like a step', () => {
    const r = bash(`steps_begin setup
step_fail apt "Debian packages" "missing: qemu-system-x86" "Installing them needs root."
echo "not reached" >&2`);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[setup] ✗ Debian packages: failed\n    missing: qemu-system-x86\n    Installing them needs root.\n    (log: ~/logs/');
    expect(r.stderr).not.toContain('not reached');
  });

  test('on a terminal a running step is one updating line, replaced by its result', () => {
    const r = bash(`steps_begin setup
step build "a build" --estimate 600 -- true
steps_end`, { ANVIL_STEPS_TTY: '1' });
    expect(r.status).toBe(0);
    // The first frame (drawn before the command starts) and the final line both rewrite the current line.
    const shown = clearsShown(r.stderr);
    expect(shown).toMatch(/^<clear> ⠋ a build +0s \(usually ~10m the first time\)/);
    expect(shown).toMatch(/<clear> ✓ a build +\d+s\n/);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(2);
  });

  test('a real terminal is detected (the form `script` gives)', () => {
    const script = join(dir, 'steps.sh');
    writeFileSync(script, `set -euo pipefail\nsource ${LIB}/steps.sh\nsteps_begin setup\nstep one "one step" -- true\nsteps_end\n`);
    const env = stepsEnv();
    delete env.ANVIL_STEPS_TTY;
    const r = spawnSync('script', ['-q', '-e', '-c', `bash ${script}`, '/dev/null'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(clearsShown(r.stdout)).toMatch(/<clear> ✓ one step +\d+s/);
    expect(r.stdout).not.toContain('[setup]');
  });

  test('without a terminal a long step prints "still running" lines', () => {
    // The step waits until its own progress line has been written: no guess at how long that takes.
    const err = join(dir, 'stderr');
    const r = bash(`exec 2>${err}
steps_begin setup
step long "a long step" --estimate 120 -- bash -c 'for i in $(seq 1 600); do grep -q "still running" ${err} && exit 0; sleep 0.1; done; exit 1'
steps_end`, { STEPS_HEARTBEAT_FIRST: '1' });
    expect(r.status).toBe(0);
    expect(readFileSync(err, 'utf8')).toMatch(/^\[setup\] {3}\.\.\. a long step: still running after \d+s \(usually ~2m the first time\)\n\[setup\] ✓ a long step: \d+s\n/);
  });

  test('an interrupted step stops its progress line and says where it was', async () => {
    const started = join(dir, 'started');
    const child = spawn(
      'bash',
      ['-c', `set -euo pipefail\nsource ${LIB}/steps.sh\nsteps_begin setup\nstep wait "a step that waits" -- bash -c 'touch ${started}; sleep 60'\n`],
      { env: stepsEnv({ ANVIL_STEPS_TTY: '1' }), detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 600 && !existsSync(started); i++) await sleep(100);
      expect(existsSync(started)).toBe(true);
      process.kill(-child.pid!, 'SIGINT'); // Ctrl-C: the whole foreground process group
      expect(await exited).toBe(130);
      expect(stderr).toMatch(/setup interrupted \(INT\) during: a step that waits \(log: ~\/logs\/setup-/);
      // Nothing of the script is left: not the spinner, not the step.
      expect(spawnSync('pgrep', ['-g', String(child.pid)]).status).toBe(1);
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  test('old logs are pruned: the 20 newest of a name are kept', () => {
    mkdirSync(join(dir, 'logs'));
    for (let i = 0; i < 25; i++) writeFileSync(join(dir, 'logs', `setup-20200101-0000${String(i).padStart(2, '0')}-1.log`), '');
    spawnSync('touch', ['-d', '2020-01-01', ...Array.from({ length: 25 }, (_, i) => join(dir, 'logs', `setup-20200101-0000${String(i).padStart(2, '0')}-1.log`))]);
    expect(bash('steps_begin setup\nsteps_end').status).toBe(0);
    const logs = spawnSync('bash', ['-c', `ls ${join(dir, 'logs')} | grep -c '^setup-2'`], { encoding: 'utf8' }).stdout.trim();
    expect(logs).toBe('20');
    expect(lstatSync(join(dir, 'logs', 'setup-latest.log')).isSymbolicLink()).toBe(true);
  });
});

describe('without_system_services', () => {
  let systemd: string;
  let policy: string;
  const env = () => ({ ANVIL_SYSTEMD_DIR: systemd, ANVIL_POLICY_RC_D: policy });
  beforeEach(() => {
    systemd = join(dir, 'systemd');
    policy = join(dir, 'policy-rc.d');
    mkdirSync(join(systemd, 'multi-user.target.wants'), { recursive: true });
    symlinkSync('/lib/systemd/system/postgresql.service', join(systemd, 'multi-user.target.wants', 'postgresql.service'));
  });

  // What a postinst does: asks policy-rc.d whether it may start the unit, enables it at boot, adds an alias.
  const fakeInstall = (status = 0) =>
    `bash -c '${policy} etcd.service start; echo "policy-rc.d said $?" > ${dir}/policy-answer
mkdir -p ${systemd}/timers.target.wants
ln -s /lib/systemd/system/etcd.service ${systemd}/multi-user.target.wants/etcd.service
ln -s /lib/systemd/system/x.timer ${systemd}/timers.target.wants/x.timer
ln -s /lib/systemd/system/etcd.service ${systemd}/etcd-alias.service
exit ${status}'`;

  test('denies service starts during the command and removes the boot links it created, and only those', () => {
    const r = bash(`without_system_services ${fakeInstall()}`, env());
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'policy-answer'), 'utf8')).toBe('policy-rc.d said 101\n');
    expect(existsSync(policy)).toBe(false);
    expect(existsSync(join(systemd, 'multi-user.target.wants', 'etcd.service'))).toBe(false);
    expect(existsSync(join(systemd, 'timers.target.wants', 'x.timer'))).toBe(false);
    expect(readlinkSync(join(systemd, 'multi-user.target.wants', 'postgresql.service'))).toBe('/lib/systemd/system/postgresql.service');
    expect(readlinkSync(join(systemd, 'etcd-alias.service'))).toBe('/lib/systemd/system/etcd.service'); // an alias starts nothing
    expect(r.stderr).toContain(`removed ${systemd}/multi-user.target.wants/etcd.service`);
  });

  test('cleans up after a failing command too, and keeps its status', () => {
    const r = bash(`set +e; without_system_services ${fakeInstall(7)}; echo "status $?"`, env());
    expect(r.stdout).toBe('status 7\n');
    expect(existsSync(policy)).toBe(false);
    expect(existsSync(join(systemd, 'multi-user.target.wants', 'etcd.service'))).toBe(false);
  });

  test('leaves a policy-rc.d that is not its own alone, and replaces one an interrupted run left', () => {
    writeFileSync(policy, '#!/bin/sh\n# the container image\nexit 101\n');
    chmodSync(policy, 0o755);
    expect(bash(`without_system_services ${fakeInstall()}`, env()).status).toBe(0);
    expect(readFileSync(policy, 'utf8')).toBe('#!/bin/sh\n# the container image\nexit 101\n');

    writeFileSync(policy, '#!/bin/sh\n# anvil: temporary policy-rc.d: no service starts while anvil installs packages.\nexit 101\n');
    rmSync(join(systemd, 'multi-user.target.wants', 'etcd.service'), { force: true });
    rmSync(join(systemd, 'etcd-alias.service'), { force: true });
    expect(bash(`without_system_services ${fakeInstall()}`, env()).status).toBe(0);
    expect(existsSync(policy)).toBe(false);
  });

  test('inside a step, the person running setup sees which unit was kept disabled', () => {
    const r = bash(`steps_begin setup
step kube "Kubernetes binaries and etcd" -- without_system_services ${fakeInstall()}
steps_end`, env());
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/\[setup\] ✓ Kubernetes binaries and etcd: \d+s\n {5}- etcd\.service left disabled: the package enabled it at boot/);
    expect(r.stderr).toContain('- x.timer left disabled');
  });
});

describe('the project Node.js check', () => {
  const fakeRoot = (nodeVersion?: string) => {
    const root = join(dir, 'checkout');
    mkdirSync(join(root, 'node_modules', '.bin'), { recursive: true });
    writeFileSync(join(root, 'package.json'), JSON.stringify({ engines: { node: '>=24' }, devDependencies: { node: '^24.21.0' } }, null, 2));
    if (nodeVersion) {
      writeFileSync(join(root, 'node_modules', '.bin', 'node'), `#!/bin/sh\necho ${nodeVersion}\n`);
      chmodSync(join(root, 'node_modules', '.bin', 'node'), 0o755);
    }
    return root;
  };

  test('accepts Node 24 from node_modules/.bin', () => {
    const root = fakeRoot('v24.21.0');
    expect(bash(`require_project_node ${root}; echo "ok $(project_node_version ${root})"`).stdout).toBe('ok v24.21.0\n');
  });

  test('an older node_modules/.bin/node: says which one it is and how to get the right one', () => {
    const root = fakeRoot('v20.11.1');
    const r = bash(`require_project_node ${root}; echo "not reached"`);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`anvil needs Node.js 24 or newer, and ${root}/node_modules/.bin/node is v20.11.1.`);
    expect(r.stderr).toContain(`run \`npm ci\` in ${root}`);
    expect(r.stderr).toContain(`export PATH=${root}/node_modules/.bin:$PATH`);
  });

  test('no node_modules/.bin/node: says it comes from the node devDependency', () => {
    const root = fakeRoot();
    const r = bash(`require_project_node ${root}`);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`anvil needs Node.js 24 from this checkout, and ${root}/node_modules/.bin/node is missing.`);
    expect(r.stderr).toContain('It comes from the npm package `node` (a devDependency)');
  });
});

describe('scripts/setup.sh', () => {
  test('a failing step names the step and points to the log (with nothing installed: dpkg and npm are stand-ins)', () => {
    // dpkg says every package is there; apt-get and npm must not run. The simulated failure stops the run before the
    // Kubernetes build, so nothing on this machine changes.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'dpkg'), '#!/bin/sh\nexit 0\n');
    writeFileSync(join(bin, 'apt-get'), '#!/bin/sh\necho "apt-get must not run in this test" >&2\nexit 1\n');
    writeFileSync(join(bin, 'npm'), '#!/bin/sh\necho "npm must not run in this test" >&2\nexit 1\n');
    for (const f of ['dpkg', 'apt-get', 'npm']) chmodSync(join(bin, f), 0o755);
    const r = spawnSync('bash', [join(ROOT, 'scripts', 'setup.sh')], {
      env: { ...stepsEnv(), PATH: `${bin}:${process.env.PATH}`, ANVIL_SETUP_FAIL: 'kube' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toContain('[setup] ✓ Debian packages: already installed\n');
    expect(r.stderr).toContain('[setup] ✓ npm packages: up to date\n');
    expect(r.stderr).toMatch(/\[setup\] ✓ Node\.js v2\d\.\d+\.\d+: node_modules\/\.bin\/node\n/);
    expect(r.stderr).toMatch(/\[setup\] ✗ Kubernetes binaries and etcd: failed after \d+s \(exit 1\)\n {4}step 'kube' failed; its full output is in ~\/logs\/setup-/);
    expect(r.stderr).toContain('    | simulated failure of step \'kube\' (ANVIL_SETUP_FAIL=kube)\n');
    expect(r.status).toBe(1);
  });
});
