// The boot-server's fix-ownership init container script (charts/anvil/files/fix-ownership.js), run for real the way the
// chart runs it: `node -e <script> DIR 10001 10001` as root with CAP_CHOWN as its only capability (setpriv sets the
// bounding set like the container runtime does) and no_new_privs. The volume holds what a real node leaves: a hostPath
// directory created by root, files an older chart's root boot-server wrote, a kernel an admin copied in, a directory
// restored by another user (0700), the boot-server's own 0700 PostgreSQL directory, a symlink pointing outside, and
// ext4's lost+found.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = readFileSync(fileURLToPath(new URL('../../charts/anvil/files/fix-ownership.js', import.meta.url)), 'utf8');
const UID = 10001;
const canRun = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
if (!canRun) console.warn('skipping the fix-ownership script test: it needs root and setpriv (util-linux) to run with CAP_CHOWN only');
const describeAsRoot = canRun ? describe : describe.skip;

describeAsRoot('fix-ownership init container script', () => {
  let tmp: string;
  let vol: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'anvil-fix-ownership-'));
    chmodSync(tmp, 0o755);
    vol = join(tmp, 'vol');
    const dir = (p: string, mode: number, uid: number, gid: number): void => {
      mkdirSync(join(vol, p), { recursive: true });
      chownSync(join(vol, p), uid, gid);
      chmodSync(join(vol, p), mode);
    };
    const file = (p: string, mode: number, uid: number, gid: number): void => {
      writeFileSync(join(vol, p), 'x');
      chownSync(join(vol, p), uid, gid);
      chmodSync(join(vol, p), mode);
    };
    dir('.', 0o755, 0, 0); // a hostPath directory as the node's admin (or the kubelet) made it
    dir('history', 0o700, UID, UID); // PGlite's data directory, the boot-server's own
    file('history/PG_VERSION', 0o600, UID, UID);
    dir('history/base', 0o700, UID, UID);
    file('history/base/1', 0o600, UID, UID);
    dir('spool', 0o755, 0, UID); // written by a boot-server that ran as root (runAsGroup 10001)
    file('spool/000001.seg', 0o644, 0, UID);
    dir('assets', 0o2775, UID, UID); // setgid, as fsGroup leaves directories
    file('assets/vmlinuz', 0o644, 0, 0); // copied in by an admin
    writeFileSync(join(tmp, 'outside'), 'not on the volume');
    symlinkSync('../../outside', join(vol, 'assets', 'escape'));
    dir('restored', 0o2700, 999, 999); // restored from a backup by another user: root cannot read it without taking it
    file('restored/index', 0o600, 999, 999);
    dir('lost+found', 0o700, 0, 0);
    file('lost+found/#12', 0o600, 0, 0);
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  /** Runs the script as the chart's init container does: root, CAP_CHOWN only (or none), no_new_privs. */
  const runScript = (caps = '+chown'): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync('setpriv', [`--bounding-set=-all${caps ? `,${caps}` : ''}`, '--inh-caps=-all', '--no-new-privs', '--', process.execPath, '-e', SCRIPT, vol, String(UID), String(UID)], {
      encoding: 'utf8',
      env: {},
    });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  /** Whether user 10001 (the boot-server, no capabilities) can create a file in the directory. */
  const bootServerCanWrite = (p: string): boolean =>
    spawnSync('setpriv', [`--reuid=${UID}`, `--regid=${UID}`, '--clear-groups', '--bounding-set=-all', '--inh-caps=-all', '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(join(vol, p, 'probe'))}, 'x')`], { env: {} }).status === 0;
  const owner = (p: string): string => {
    const st = lstatSync(join(vol, p));
    return `${st.uid}:${st.gid}`;
  };
  const mode = (p: string): string => (lstatSync(join(vol, p)).mode & 0o7777).toString(8);

  it('gives every file to 10001:10001 with CAP_CHOWN alone, keeps modes, does not follow symlinks, leaves lost+found to root', () => {
    for (const p of ['.', 'spool', 'restored']) expect([p, bootServerCanWrite(p)]).toEqual([p, false]);

    const r = runScript();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const line = JSON.parse(r.stdout.trim()) as { level: number; component: string; changed: number };
    expect(line).toMatchObject({ level: 30, component: 'fix-ownership', changed: 7 });

    for (const p of ['.', 'history', 'history/PG_VERSION', 'history/base', 'history/base/1', 'spool', 'spool/000001.seg', 'assets', 'assets/vmlinuz', 'assets/escape', 'restored', 'restored/index']) {
      expect([p, owner(p)]).toEqual([p, `${UID}:${UID}`]);
    }
    // The other user's 0700 directory it took over (chowned to root) to read is given back with its mode.
    expect(mode('restored')).toBe('2700');
    expect(mode('assets')).toBe('2775');
    expect(mode('history')).toBe('700');
    expect(mode('spool/000001.seg')).toBe('644');
    const outside = lstatSync(join(tmp, 'outside'));
    expect(`${outside.uid}:${outside.gid}`).toBe('0:0');
    expect(owner('lost+found')).toBe('0:0');
    expect(owner('lost+found/#12')).toBe('0:0');

    for (const p of ['.', 'spool', 'restored', 'history/base']) expect([p, bootServerCanWrite(p)]).toEqual([p, true]);
  });

  it('is silent and changes nothing when the volume is already right', () => {
    expect(runScript().status).toBe(0);
    const ctime = lstatSync(join(vol, 'history')).ctimeMs;
    const again = runScript();
    expect(again).toEqual({ status: 0, stdout: '', stderr: '' });
    // The boot-server's own 0700 directory is not taken over and given back on every start.
    expect(lstatSync(join(vol, 'history')).ctimeMs).toBe(ctime);
  });

  it('fails with a way out when root may not chown (no CAP_CHOWN, like NFS with root_squash)', () => {
    const r = runScript('');
    expect(r.status).toBe(1);
    const line = JSON.parse(r.stdout.trim()) as { level: number; msg: string; code: string };
    expect(line.level).toBe(50);
    expect(line.code).toBe('EPERM');
    expect(line.msg).toContain('bootServer.persistence.fixOwnership.enabled=false');
  });
});
