// Operator configuration from flags and environment, validated up front with every problem reported at once.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { LOG_LEVELS } from '../../shared/src/logging.js';
import { parseCertificateFlag, parseIssuerFlag, type CertificateSettings } from './controllers/certificates/desired.js';
import { HTTPS_FLAGS, httpsHelp, parseHttpsConfig, type HttpsConfig } from '../../shared/src/tls/config.js';
import { ConfigError, NAMESPACE_PATTERN, parseBaseURL, parseBool, parseInteger, parseNamespaces } from '../../shared/src/config/parse.js';

export { ConfigError };

export interface OperatorConfig {
  kubeconfig: string | undefined;
  namespaces: string[];
  metricsPort: number;
  metricsHost: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  identity: string;
  logLevel: string;
  maxConcurrentReconciles: number;
  resyncPeriodSeconds: number;
  bootServerURL: string;
  retryBaseSeconds: number;
  /** Power actions (power on/off, reset, boot device) running at once across all hosts. */
  maxConcurrentPowerOps: number;
  /** How often each host's BMC is asked for the power state. */
  powerPollSeconds: number;
  /** Upper bound of one BMC request. */
  bmcTimeoutSeconds: number;
  databaseURL: string | undefined;
  /** The metrics/health/history routes also over HTTPS when a certificate is configured. */
  https: HttpsConfig | undefined;
  /** cert-manager Certificates the operator keeps in place; undefined without --certificate-issuer. */
  certificates: CertificateSettings | undefined;
}

const HELP = () => `anvil operator

Flags (environment variable in brackets):
  --kubeconfig PATH                 kubeconfig file; in-cluster config when unset [KUBECONFIG]
  --namespace NS[,NS...]            namespaces to watch; all when unset [WATCH_NAMESPACE]
  --metrics-port N                  port for /metrics, /healthz, /readyz (default 8080) [METRICS_PORT]
  --metrics-host ADDR               address to bind (default 0.0.0.0) [METRICS_HOST]
  --leader-elect BOOL               run leader election (default true) [LEADER_ELECT]
  --leader-election-namespace NS    namespace of the Lease (default: POD_NAMESPACE or "default") [LEADER_ELECTION_NAMESPACE]
  --leader-election-id NAME         name of the Lease (default anvil-operator) [LEADER_ELECTION_ID]
  --identity NAME                   this replica's identity (default: POD_NAME or hostname_pid) [POD_NAME]
  --log-level LEVEL                 ${LOG_LEVELS.join('|')} (default info) [LOG_LEVEL]
  --max-concurrent-reconciles N     workers per controller (default 4) [MAX_CONCURRENT_RECONCILES]
  --resync-period SECONDS           periodic resync of every cached object (default 600, 0 = off) [RESYNC_PERIOD]
  --boot-server-url URL             base URL machines reach the boot-server at (default http://127.0.0.1:8080) [BOOT_SERVER_URL]
  --retry-base-seconds N            first retry delay after a failed install; doubles per retry (default 30) [RETRY_BASE_SECONDS]
  --max-concurrent-power-ops N      power actions running at once across all hosts (default 10) [MAX_CONCURRENT_POWER_OPS]
  --power-poll-seconds N            how often each BMC is asked for the power state (default 60) [POWER_POLL_SECONDS]
  --bmc-timeout-seconds N           upper bound of one BMC request (default 20) [BMC_TIMEOUT_SECONDS]
  --database-url URL                install history in PostgreSQL/CockroachDB: serve its API at /api/v1 on the metrics
                                    port (with the embedded database the boot-server serves it) [DATABASE_URL]
${httpsHelp(8443)}  --certificate-issuer [Issuer/|ClusterIssuer/]NAME
                                    cert-manager issuer for anvil's HTTPS listeners; enables --certificate [CERTIFICATE_ISSUER]
  --certificate-issuer-group G       API group of that issuer (default cert-manager.io; external issuers have their own)
                                    [CERTIFICATE_ISSUER_GROUP]
  --certificate NAME=SAN,SAN,...    a Certificate to keep in place (repeatable; env: ';'-separated); its Secret is NAME-tls
                                    [CERTIFICATES]
  --certificate-namespace NS        namespace of those Certificates (default: POD_NAMESPACE or "default") [CERTIFICATE_NAMESPACE]
  --certificate-duration D          requested lifetime (default 2160h) [CERTIFICATE_DURATION]
  --certificate-renew-before D      renew this long before expiry (default 360h) [CERTIFICATE_RENEW_BEFORE]
  --help                            print this help
`;

export const helpText = (): string => HELP();

/** Parses argv and env; throws ConfigError listing every problem, or returns 'help' when --help is given. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): OperatorConfig | 'help' {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: 'string' },
        namespace: { type: 'string' },
        'metrics-port': { type: 'string' },
        'metrics-host': { type: 'string' },
        'leader-elect': { type: 'string' },
        'leader-election-namespace': { type: 'string' },
        'leader-election-id': { type: 'string' },
        identity: { type: 'string' },
        'log-level': { type: 'string' },
        'max-concurrent-reconciles': { type: 'string' },
        'resync-period': { type: 'string' },
        'boot-server-url': { type: 'string' },
        'retry-base-seconds': { type: 'string' },
        'max-concurrent-power-ops': { type: 'string' },
        'power-poll-seconds': { type: 'string' },
        'bmc-timeout-seconds': { type: 'string' },
        'database-url': { type: 'string' },
        ...Object.fromEntries(HTTPS_FLAGS.map((k) => [k, { type: 'string' as const }])),
        'certificate-issuer': { type: 'string' },
        certificate: { type: 'string', multiple: true },
        'certificate-namespace': { type: 'string' },
        'certificate-issuer-group': { type: 'string' },
        'certificate-duration': { type: 'string' },
        'certificate-renew-before': { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
  if (values.help) return 'help';
  const get = (flag: string, envName: string): string | undefined => (values[flag] as string | undefined) ?? env[envName];
  const problems: string[] = [];

  const namespaces = parseNamespaces(get('namespace', 'WATCH_NAMESPACE'), problems);

  const logLevel = get('log-level', 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel as never)) problems.push(`log level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);

  const leaderElectionNamespace = get('leader-election-namespace', 'LEADER_ELECTION_NAMESPACE') ?? env.POD_NAMESPACE ?? 'default';
  if (!NAMESPACE_PATTERN.test(leaderElectionNamespace)) problems.push(`leader election namespace "${leaderElectionNamespace}" is not a valid namespace name`);
  const leaderElectionId = get('leader-election-id', 'LEADER_ELECTION_ID') ?? 'anvil-operator';
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(leaderElectionId)) problems.push(`leader election id "${leaderElectionId}" is not a valid object name`);

  const bootServerURL = parseBaseURL('boot server URL', get('boot-server-url', 'BOOT_SERVER_URL') ?? 'http://127.0.0.1:8080', problems);

  const config: OperatorConfig = {
    kubeconfig: get('kubeconfig', 'KUBECONFIG') || undefined,
    namespaces,
    metricsPort: parseInteger('metrics port', get('metrics-port', 'METRICS_PORT') ?? '8080', 0, 65535, problems),
    metricsHost: get('metrics-host', 'METRICS_HOST') ?? '0.0.0.0',
    leaderElect: parseBool('leader-elect', get('leader-elect', 'LEADER_ELECT') ?? 'true', problems),
    leaderElectionNamespace,
    leaderElectionId,
    identity: get('identity', 'POD_NAME') ?? `${hostname()}_${process.pid}`,
    logLevel,
    maxConcurrentReconciles: parseInteger('max concurrent reconciles', get('max-concurrent-reconciles', 'MAX_CONCURRENT_RECONCILES') ?? '4', 1, 1000, problems),
    resyncPeriodSeconds: parseInteger('resync period', get('resync-period', 'RESYNC_PERIOD') ?? '600', 0, 86400 * 7, problems),
    bootServerURL,
    retryBaseSeconds: parseInteger('retry base seconds', get('retry-base-seconds', 'RETRY_BASE_SECONDS') ?? '30', 1, 86400, problems),
    maxConcurrentPowerOps: parseInteger('max concurrent power ops', get('max-concurrent-power-ops', 'MAX_CONCURRENT_POWER_OPS') ?? '10', 1, 10000, problems),
    powerPollSeconds: parseInteger('power poll seconds', get('power-poll-seconds', 'POWER_POLL_SECONDS') ?? '60', 1, 86400, problems),
    bmcTimeoutSeconds: parseInteger('BMC timeout seconds', get('bmc-timeout-seconds', 'BMC_TIMEOUT_SECONDS') ?? '20', 1, 600, problems),
    databaseURL: get('database-url', 'DATABASE_URL') || undefined,
    https: undefined,
    certificates: undefined,
  };
  config.https = parseHttpsConfig(get, { port: 8443, host: config.metricsHost }, problems);
  config.certificates = parseCertificates(values.certificate as string[] | undefined, get, env, problems);
  if (problems.length) throw new ConfigError(problems);
  return config;
}

function parseCertificates(
  flags: string[] | undefined,
  get: (flag: string, envName: string) => string | undefined,
  env: NodeJS.ProcessEnv,
  problems: string[],
): CertificateSettings | undefined {
  const entries = flags ?? (env.CERTIFICATES ?? '').split(';').filter((e) => e.trim());
  const issuerValue = get('certificate-issuer', 'CERTIFICATE_ISSUER');
  if (!issuerValue) {
    if (entries.length) problems.push('--certificate needs --certificate-issuer (the cert-manager Issuer or ClusterIssuer to ask)');
    return undefined;
  }
  const issuer = parseIssuerFlag(issuerValue, problems);
  const group = get('certificate-issuer-group', 'CERTIFICATE_ISSUER_GROUP');
  if (issuer && group) {
    if (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(group)) issuer.group = group;
    else problems.push(`certificate issuer group "${group}" is not an API group name such as cert-manager.io`);
  }
  if (!entries.length) problems.push('--certificate-issuer needs at least one --certificate NAME=SAN,...');
  const certificates = entries.map((e) => parseCertificateFlag(e, problems)).filter((c) => c !== undefined);
  const namespace = get('certificate-namespace', 'CERTIFICATE_NAMESPACE') ?? env.POD_NAMESPACE ?? 'default';
  if (!NAMESPACE_PATTERN.test(namespace)) problems.push(`certificate namespace "${namespace}" is not a valid namespace name`);
  const duration = get('certificate-duration', 'CERTIFICATE_DURATION') ?? '2160h';
  const renewBefore = get('certificate-renew-before', 'CERTIFICATE_RENEW_BEFORE') ?? '360h';
  for (const [name, d] of [['certificate duration', duration], ['certificate renew-before', renewBefore]] as const) {
    if (!/^([0-9]+(\.[0-9]+)?(h|m|s|ms))+$/.test(d)) problems.push(`${name} must be a Go duration such as 2160h or 90m, got "${d}"`);
  }
  return issuer ? { namespace, issuer, certificates, duration, renewBefore } : undefined;
}
