// The servers anvil is compared with, unpacked by bench/setup-anchors.sh (never installed, so no system service
// starts), and anvil's own TFTP server run standalone. All bind to 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/harness/control-plane.js';
import { startServer, waitTcp, waitUdp, type Server } from './procs.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface AnchorBins {
  dir: string;
  inTftpd: string;
  atftpd: string;
  nginx: string;
  dnsmasq: string;
  /** For the unpacked TFTP servers' libwrap.so.0. */
  env: NodeJS.ProcessEnv;
  versions: string;
}

let cached: AnchorBins | undefined;

export function anchorBins(): AnchorBins {
  if (cached) return cached;
  const dir = execFileSync('bash', [join(ROOT, 'bench', 'setup-anchors.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const root = join(dir, 'root');
  const dnsmasq = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].find((p) => existsSync(p));
  if (!dnsmasq) throw new Error("dnsmasq not found: run 'bash scripts/setup.sh' (installs dnsmasq-base)");
  const dnsmasqVersion = execFileSync(dnsmasq, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  cached = {
    dir,
    inTftpd: join(root, 'usr/sbin/in.tftpd'),
    atftpd: join(root, 'usr/sbin/atftpd'),
    nginx: join(root, 'usr/sbin/nginx'),
    dnsmasq,
    env: { ...process.env, LD_LIBRARY_PATH: join(root, 'usr/lib/x86_64-linux-gnu') },
    versions: `${execFileSync('cat', [join(dir, 'versions')], { encoding: 'utf8' }).trim()} ${dnsmasqVersion}`,
  };
  return cached;
}

export interface TftpTarget {
  name: string;
  port: number;
  server: Server;
}

export const TFTP_SERVERS = ['anvil', 'tftpd-hpa', 'atftpd', 'dnsmasq'] as const;
export type TftpServerName = (typeof TFTP_SERVERS)[number];

/** dnsmasq's TFTP port is fixed at 69; the others get a free port. */
export async function startTftpServer(name: TftpServerName, root: string, workDir: string, options: { maxSessions: number; cpuProf?: string }): Promise<TftpTarget> {
  const bins = anchorBins();
  const logFile = join(workDir, `${name}.log`);
  const port = name === 'dnsmasq' ? 69 : await freePort();
  let server: Server;
  switch (name) {
    case 'anvil':
      server = startServer(
        name,
        process.execPath,
        [
          ...(options.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProf] : []),
          '--conditions=anvil-source', '--import', 'tsx', join(ROOT, 'bench', 'servers', 'anvil-tftp.ts'),
          '--port', String(port), '--root', root, '--max-sessions', String(options.maxSessions),
        ],
        { logFile, env: { ...process.env, NODE_OPTIONS: '' } },
      );
      break;
    case 'tftpd-hpa':
      // -L foreground, -s chroot to the root (as packaged), -u root so the chroot'ed files stay readable.
      server = startServer(name, bins.inTftpd, ['-L', '-s', '-u', 'root', '-a', `127.0.0.1:${port}`, root], { logFile, env: bins.env });
      break;
    case 'atftpd':
      server = startServer(
        name,
        bins.atftpd,
        ['--daemon', '--no-fork', '--user', 'root.root', '--bind-address', '127.0.0.1', '--port', String(port), '--maxthread', String(options.maxSessions), '--logfile', '/dev/null', root],
        { logFile, env: bins.env },
      );
      break;
    case 'dnsmasq':
      server = startServer(
        name,
        bins.dnsmasq,
        [
          '--keep-in-foreground', '--conf-file=/dev/null', '--port=0', '--user=root', '--pid-file=',
          '--listen-address=127.0.0.1', '--bind-interfaces', '--enable-tftp', `--tftp-root=${root}`,
          `--tftp-max=${options.maxSessions}`, '--log-facility=-',
        ],
        { logFile },
      );
      break;
  }
  await waitUdp(port, 15_000, server);
  return { name, port, server };
}

export interface HttpTarget {
  name: string;
  url: string;
  server: Server;
}

/** nginx with one worker serving `root` (and answering any request to /hook with 200). Config in `workDir`. */
export async function startNginx(root: string, workDir: string, host = '127.0.0.1'): Promise<HttpTarget> {
  const bins = anchorBins();
  const port = await freePort();
  const conf = join(workDir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      'daemon off;',
      'master_process on;',
      'worker_processes 1;',
      'user root;',
      `pid ${join(workDir, 'nginx.pid')};`,
      `error_log ${join(workDir, 'nginx-error.log')} warn;`,
      'events { worker_connections 4096; }',
      'http {',
      '  access_log off;',
      '  default_type application/octet-stream;',
      '  types { text/plain txt ipxe; }',
      '  sendfile on; tcp_nopush on; keepalive_requests 1000000;',
      `  client_body_temp_path ${join(workDir, 'nginx-body')};`,
      `  proxy_temp_path ${join(workDir, 'nginx-proxy')};`,
      `  fastcgi_temp_path ${join(workDir, 'nginx-fastcgi')};`,
      `  uwsgi_temp_path ${join(workDir, 'nginx-uwsgi')};`,
      `  scgi_temp_path ${join(workDir, 'nginx-scgi')};`,
      '  server {',
      `    listen ${host}:${port};`,
      `    root ${root};`,
      '    location = /hook { return 200 "ok\\n"; }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const server = startServer('nginx', bins.nginx, ['-c', conf, '-p', workDir, '-e', join(workDir, 'nginx-error.log')], { logFile: join(workDir, 'nginx.log') });
  await waitTcp(port, host, 15_000, server);
  return { name: 'nginx', url: `http://${host}:${port}`, server };
}
