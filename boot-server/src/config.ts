// boot-server configuration: every flag declared once below; parsing, environment fallbacks, help and the table in
// docs/configuration.md follow from the declarations. Every problem is reported at once.
import { ConfigError, namespaceCheck, choice, configFromFlags, derived, int, list, text, url, type FlagValues, helpText as renderHelp, kubeconfigFlag, logLevelFlag } from '@anvil/core/config';
import { httpsConfig, httpsFlags, type HttpsConfig } from '@anvil/core/tls';
import { MANAGED_DHCP_FLAGS, PROXY_DHCP_FLAGS, managedDhcpConfig, proxyDhcpConfig, type ProxyDhcpConfig } from './dhcp/config.js';
import { SYSLOG_FLAGS } from './syslog/config.js';

export { ConfigError };

const SERVE_FLAGS = {
  kubeconfig: kubeconfigFlag(),
  namespaces: list({ name: 'namespace', env: 'WATCH_NAMESPACE', value: 'NS[,NS...]', separator: ',', check: namespaceCheck('namespace'), help: 'namespaces whose boot configs to serve; all when unset' }),
  httpHost: text({ name: 'http-host', env: 'HTTP_HOST', value: 'ADDR', default: '0.0.0.0', help: 'HTTP bind address' }),
  httpPort: int({ name: 'http-port', env: 'HTTP_PORT', label: 'http port', default: 8080, min: 0, max: 65535, help: 'HTTP port' }),
} as const;

const BOOT_FLAGS = {
  publicURL: url({
    name: 'public-url',
    env: 'PUBLIC_URL',
    label: 'public URL',
    default: derived('http://127.0.0.1:<http-port>', ({ values }) => `http://127.0.0.1:${String(values.httpPort)}`),
    help: 'base URL machines reach this server at',
  }),
  tftpHost: text({ name: 'tftp-host', env: 'TFTP_HOST', value: 'ADDR', default: '0.0.0.0', help: 'TFTP bind address' }),
  tftpPort: int({ name: 'tftp-port', env: 'TFTP_PORT', label: 'tftp port', default: 69, min: 0, max: 65535, help: 'TFTP port; 0 disables TFTP' }),
  tftpRoot: text({ name: 'tftp-root', env: 'TFTP_ROOT', value: 'DIR', default: '/usr/lib/ipxe', help: 'iPXE binaries served over TFTP' }),
  tftpMaxSessions: int({
    name: 'tftp-max-sessions',
    env: 'TFTP_MAX_SESSIONS',
    label: 'tftp max sessions',
    default: 256,
    min: 1,
    max: 65535,
    help: 'concurrent TFTP transfers; beyond, requests get "server busy"',
  }),
  tftpMaxSessionsPerClient: int({
    name: 'tftp-max-sessions-per-client',
    env: 'TFTP_MAX_SESSIONS_PER_CLIENT',
    label: 'tftp max sessions per client',
    default: 16,
    min: 1,
    max: 65535,
    help: 'concurrent TFTP transfers from one source address; beyond, its requests are refused',
  }),
  assetDir: text({ name: 'asset-dir', env: 'ASSET_DIR', value: 'DIR', default: '/var/lib/anvil/assets', help: 'cache of kernels, initrds and ISOs' }),
  spoolDir: text({ name: 'spool-dir', env: 'SPOOL_DIR', value: 'DIR', default: '/var/lib/anvil/spool', help: 'durable spool of accepted events' }),
  databaseURL: text({ name: 'database-url', env: 'DATABASE_URL', value: 'URL', help: 'install history in PostgreSQL/CockroachDB; embedded when unset' }),
  dataDir: text({ name: 'data-dir', env: 'DATA_DIR', value: 'DIR', default: '/var/lib/anvil/history', help: 'embedded history database directory' }),
  unknownMachine: choice({ name: 'unknown-machine', env: 'UNKNOWN_MACHINE', label: 'unknown-machine', choices: ['exit', 'shell'], default: 'exit', help: 'what a machine no BareMetalHost declares is told' }),
  discovery: choice({
    name: 'discovery',
    env: 'DISCOVERY',
    label: 'discovery',
    choices: ['record', 'create'],
    default: 'record',
    help: 'a machine no BareMetalHost declares is recorded in the history (record), and also given a BareMetalHost in state Discovered to accept (create)',
  }),
  discoveryNamespace: text({
    name: 'discovery-namespace',
    env: 'DISCOVERY_NAMESPACE',
    value: 'NS',
    default: 'default',
    check: namespaceCheck('discovery-namespace'),
    help: 'namespace of the BareMetalHosts --discovery=create makes',
  }),
  discoveryCreatesPerMinute: int({
    name: 'discovery-creates-per-minute',
    env: 'DISCOVERY_CREATES_PER_MINUTE',
    label: 'discovery creates per minute',
    default: 30,
    min: 1,
    max: 10_000,
    help: 'BareMetalHosts --discovery=create makes a minute at most (the rest on a later boot of theirs)',
  }),
  retentionDays: int({ name: 'retention-days', env: 'RETENTION_DAYS', label: 'retention days', default: 90, min: 0, max: 36500, help: 'keep installer events and boot requests this long; 0 keeps all' }),
  rateLimitPerSecond: int({
    name: 'rate-limit-per-second',
    env: 'RATE_LIMIT_PER_SECOND',
    label: 'rate limit per second',
    default: 50,
    min: 0,
    max: 1_000_000,
    help: 'requests without a valid token (iPXE scripts, assets, refused tokens) per source address and second; beyond the burst they get 429; 0 disables',
  }),
  rateLimitBurst: int({ name: 'rate-limit-burst', env: 'RATE_LIMIT_BURST', label: 'rate limit burst', default: 500, min: 1, max: 1_000_000, help: 'requests a source address may make at once before the rate applies' }),
  eventGraceSeconds: int({
    name: 'event-grace-seconds',
    env: 'EVENT_GRACE_SECONDS',
    label: 'event grace seconds',
    default: 1800,
    min: 0,
    max: 7 * 86400,
    help: "accept an installation's events this long after its verdict, until the host boots again (late-commands, crash reports)",
  }),
  logLevel: logLevelFlag(),
} as const;

// In help order. HTTPS runs beside HTTP (iPXE with TLS, installers that insist on https) on the HTTP bind address unless
// told otherwise.
export const FLAGS = {
  serve: SERVE_FLAGS,
  https: httpsFlags({ port: 8443, httpHostKey: 'httpHost' }),
  boot: BOOT_FLAGS,
  // proxyDHCP (issue 25): off by default, see docs/dhcp.md.
  proxyDhcp: PROXY_DHCP_FLAGS,
  // managed DHCP (issue 25): never unless a pool is given, see docs/dhcp.md.
  managedDhcp: MANAGED_DHCP_FLAGS,
  // d-i's syslog (issue 24): off by default, see docs/installers.md.
  syslog: SYSLOG_FLAGS,
} as const;

export type BootServerConfig = FlagValues<typeof SERVE_FLAGS> & FlagValues<typeof BOOT_FLAGS> & FlagValues<typeof SYSLOG_FLAGS> & { https: HttpsConfig | undefined; proxyDhcp: ProxyDhcpConfig | undefined };

export const helpText = (): string => renderHelp('anvil boot-server', FLAGS);

/** Parses argv and env; throws ConfigError listing every problem, or returns 'help' when --help is given. */
export const loadConfig = (argv: string[], env: NodeJS.ProcessEnv): BootServerConfig | 'help' =>
  configFromFlags(FLAGS, argv, env, (values, problems) => {
    const proxy = proxyDhcpConfig(values.proxyDhcp, values.boot.publicURL, problems, values.boot.discovery === 'create');
    const managed = managedDhcpConfig(values.managedDhcp, proxy, problems);
    return { ...values.serve, ...values.boot, ...values.syslog, https: httpsConfig(values.https, problems), proxyDhcp: proxy && managed ? { ...proxy, managed } : proxy };
  });
