// boot-server configuration from flags and environment, validated up front.
import { parseArgs } from 'node:util';
import { ConfigError, parseBaseURL, parseInteger, parseNamespaces } from '../../shared/src/config/parse.js';
import { LOG_LEVELS } from '../../shared/src/logging.js';
import { HTTPS_FLAGS, httpsHelp, parseHttpsConfig, type HttpsConfig } from '../../shared/src/tls/config.js';

export { ConfigError };

export interface BootServerConfig {
  kubeconfig: string | undefined;
  namespaces: string[];
  httpHost: string;
  httpPort: number;
  publicURL: string;
  /** HTTPS beside HTTP when a certificate is configured (iPXE with TLS, installers that insist on https). */
  https: HttpsConfig | undefined;
  tftpHost: string;
  /** 0 disables TFTP. */
  tftpPort: number;
  tftpRoot: string;
  /** Concurrent TFTP transfers in all, and from one source address. */
  tftpMaxSessions: number;
  tftpMaxSessionsPerClient: number;
  assetDir: string;
  spoolDir: string;
  databaseURL: string | undefined;
  dataDir: string;
  unknownMachine: 'exit' | 'shell';
  retentionDays: number;
  /** Requests without a valid token per source address: sustained rate (0 disables) and burst. */
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  /** Seconds an installation's events are still accepted after its verdict (until the host boots again). */
  eventGraceSeconds: number;
  logLevel: string;
}

export const helpText = (): string => `anvil boot-server

Flags (environment variable in brackets):
  --kubeconfig PATH          kubeconfig; in-cluster when unset [KUBECONFIG]
  --namespace NS[,NS...]     namespaces whose boot configs to serve; all when unset [WATCH_NAMESPACE]
  --http-host ADDR           HTTP bind address (default 0.0.0.0) [HTTP_HOST]
  --http-port N              HTTP port (default 8080) [HTTP_PORT]
${httpsHelp(8443)}  --public-url URL           base URL machines reach this server at (default http://127.0.0.1:<http-port>) [PUBLIC_URL]
  --tftp-host ADDR           TFTP bind address (default 0.0.0.0) [TFTP_HOST]
  --tftp-port N              TFTP port (default 69; 0 disables TFTP) [TFTP_PORT]
  --tftp-root DIR            iPXE binaries served over TFTP (default /usr/lib/ipxe) [TFTP_ROOT]
  --tftp-max-sessions N      concurrent TFTP transfers; beyond, requests get "server busy" (default 256) [TFTP_MAX_SESSIONS]
  --tftp-max-sessions-per-client N   concurrent TFTP transfers from one source address; beyond, its requests are
                             refused (default 16) [TFTP_MAX_SESSIONS_PER_CLIENT]
  --asset-dir DIR            cache of kernels, initrds and ISOs (default /var/lib/anvil/assets) [ASSET_DIR]
  --spool-dir DIR            durable spool of accepted events (default /var/lib/anvil/spool) [SPOOL_DIR]
  --database-url URL         install history in PostgreSQL/CockroachDB; embedded when unset [DATABASE_URL]
  --data-dir DIR             embedded history database directory (default /var/lib/anvil/history) [DATA_DIR]
  --unknown-machine exit|shell   what a machine no BareMetalHost declares is told (default exit) [UNKNOWN_MACHINE]
  --retention-days N         keep installer events and boot requests this long; 0 keeps all (default 90) [RETENTION_DAYS]
  --rate-limit-per-second N  requests without a valid token (iPXE scripts, assets, refused tokens) per source
                             address and second; beyond the burst they get 429 (default 50; 0 disables) [RATE_LIMIT_PER_SECOND]
  --rate-limit-burst N       requests a source address may make at once before the rate applies (default 500) [RATE_LIMIT_BURST]
  --event-grace-seconds N    accept an installation's events this long after its verdict, until the host boots
                             again (late-commands, crash reports; default 1800) [EVENT_GRACE_SECONDS]
  --log-level LEVEL          ${LOG_LEVELS.join('|')} (default info) [LOG_LEVEL]
`;

const STRING_FLAGS = [...HTTPS_FLAGS, 'kubeconfig', 'namespace', 'http-host', 'http-port', 'public-url', 'tftp-host', 'tftp-port', 'tftp-root', 'tftp-max-sessions', 'tftp-max-sessions-per-client', 'asset-dir', 'spool-dir', 'database-url', 'data-dir', 'unknown-machine', 'retention-days', 'event-grace-seconds', 'rate-limit-per-second', 'rate-limit-burst', 'log-level'];

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): BootServerConfig | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        ...Object.fromEntries(STRING_FLAGS.map((k) => [k, { type: 'string' as const }])),
        help: { type: 'boolean' as const },
      },
    }) as { values: Record<string, string | boolean | undefined> });
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
  if (values.help) return 'help';
  const get = (flag: string, envName: string): string | undefined => (values[flag] as string | undefined) ?? env[envName];
  const problems: string[] = [];
  const httpPort = parseInteger('http port', get('http-port', 'HTTP_PORT') ?? '8080', 0, 65535, problems);
  const unknownMachine = get('unknown-machine', 'UNKNOWN_MACHINE') ?? 'exit';
  if (unknownMachine !== 'exit' && unknownMachine !== 'shell') problems.push(`unknown-machine must be exit or shell, got "${unknownMachine}"`);
  const logLevel = get('log-level', 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel as never)) problems.push(`log level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const config: BootServerConfig = {
    kubeconfig: get('kubeconfig', 'KUBECONFIG') || undefined,
    namespaces: parseNamespaces(get('namespace', 'WATCH_NAMESPACE'), problems),
    httpHost: get('http-host', 'HTTP_HOST') ?? '0.0.0.0',
    httpPort,
    https: undefined,
    publicURL: parseBaseURL('public URL', get('public-url', 'PUBLIC_URL') ?? `http://127.0.0.1:${httpPort}`, problems),
    tftpHost: get('tftp-host', 'TFTP_HOST') ?? '0.0.0.0',
    tftpPort: parseInteger('tftp port', get('tftp-port', 'TFTP_PORT') ?? '69', 0, 65535, problems),
    tftpRoot: get('tftp-root', 'TFTP_ROOT') ?? '/usr/lib/ipxe',
    tftpMaxSessions: parseInteger('tftp max sessions', get('tftp-max-sessions', 'TFTP_MAX_SESSIONS') ?? '256', 1, 65535, problems),
    tftpMaxSessionsPerClient: parseInteger('tftp max sessions per client', get('tftp-max-sessions-per-client', 'TFTP_MAX_SESSIONS_PER_CLIENT') ?? '16', 1, 65535, problems),
    assetDir: get('asset-dir', 'ASSET_DIR') ?? '/var/lib/anvil/assets',
    spoolDir: get('spool-dir', 'SPOOL_DIR') ?? '/var/lib/anvil/spool',
    databaseURL: get('database-url', 'DATABASE_URL') || undefined,
    dataDir: get('data-dir', 'DATA_DIR') ?? '/var/lib/anvil/history',
    unknownMachine: unknownMachine as 'exit' | 'shell',
    retentionDays: parseInteger('retention days', get('retention-days', 'RETENTION_DAYS') ?? '90', 0, 36500, problems),
    rateLimitPerSecond: parseInteger('rate limit per second', get('rate-limit-per-second', 'RATE_LIMIT_PER_SECOND') ?? '50', 0, 1_000_000, problems),
    rateLimitBurst: parseInteger('rate limit burst', get('rate-limit-burst', 'RATE_LIMIT_BURST') ?? '500', 1, 1_000_000, problems),
    eventGraceSeconds: parseInteger('event grace seconds', get('event-grace-seconds', 'EVENT_GRACE_SECONDS') ?? '1800', 0, 7 * 86400, problems),
    logLevel,
  };
  config.https = parseHttpsConfig(get, { port: 8443, host: config.httpHost }, problems);
  if (problems.length) throw new ConfigError(problems);
  return config;
}
