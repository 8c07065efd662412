// Operator configuration: every flag declared once below; parsing, environment fallbacks, help and the table in
// docs/configuration.md follow from the declarations. Every problem is reported at once.
import { hostname } from 'node:os';
import { kubeconfigFlag, logLevelFlag, ConfigError, namespaceCheck, bool, configFromFlags, derived, int, list, text, url, type FlagValues, helpText as renderHelp } from '@anvil/core/config';
import { parseCertificateFlag, parseIssuerFlag, type CertificateSettings } from './controllers/certificates/desired.js';
import { httpsConfig, httpsFlags, type HttpsConfig } from '@anvil/core/tls';

export { ConfigError };

/**
 * The naps of curtin's webhook reporter before it gives up on an event (url_helper.geturl retries on any error). The
 * sum (127 s) outlasts a boot-server restart such as a `helm upgrade` (34-79 s measured on the test node), so events
 * posted meanwhile arrive late instead of never. The price: while the boot-server is down the installer waits.
 */
export const DEFAULT_WEBHOOK_RETRIES: readonly number[] = [1, 2, 4, 8, 16, 32, 64];

/** "1,2,4" → [1, 2, 4]; "none" or "" → []; undefined when malformed. */
export function parseWebhookRetries(value: string): number[] | undefined {
  const v = value.trim();
  if (v === '' || v === 'none') return [];
  const items = v.split(',').map((s) => s.trim());
  if (items.length > 20 || !items.every((s) => /^[0-9]{1,3}$/.test(s) && Number(s) <= 600)) return undefined;
  return items.map(Number);
}

const goDuration = (what: string) => (d: string) => (/^([0-9]+(\.[0-9]+)?(h|m|s|ms))+$/.test(d) ? undefined : `${what} must be a Go duration such as 2160h or 90m, got "${d}"`);
const podNamespace = derived('POD_NAMESPACE or "default"', ({ env }) => env.POD_NAMESPACE ?? 'default');

const OPERATOR_FLAGS = {
  kubeconfig: kubeconfigFlag(),
  namespaces: list({ name: 'namespace', env: 'WATCH_NAMESPACE', value: 'NS[,NS...]', separator: ',', check: namespaceCheck('namespace'), help: 'namespaces to watch; all when unset' }),
  metricsPort: int({ name: 'metrics-port', env: 'METRICS_PORT', label: 'metrics port', default: 8080, min: 0, max: 65535, help: 'port for /metrics, /healthz, /readyz' }),
  metricsHost: text({ name: 'metrics-host', env: 'METRICS_HOST', value: 'ADDR', default: '0.0.0.0', help: 'address to bind' }),
  leaderElect: bool({ name: 'leader-elect', env: 'LEADER_ELECT', label: 'leader-elect', default: true, help: 'run leader election' }),
  leaderElectionNamespace: text({
    name: 'leader-election-namespace',
    env: 'LEADER_ELECTION_NAMESPACE',
    value: 'NS',
    default: podNamespace,
    check: namespaceCheck('leader election namespace'),
    help: 'namespace of the Lease',
  }),
  leaderElectionId: text({
    name: 'leader-election-id',
    env: 'LEADER_ELECTION_ID',
    value: 'NAME',
    default: 'anvil-operator',
    check: (id) => (/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(id) ? undefined : `leader election id "${id}" is not a valid object name`),
    help: 'name of the Lease',
  }),
  identity: text({ name: 'identity', env: 'POD_NAME', value: 'NAME', default: derived('hostname_pid', () => `${hostname()}_${process.pid}`), help: "this replica's identity" }),
  logLevel: logLevelFlag(),
  maxConcurrentReconciles: int({ name: 'max-concurrent-reconciles', env: 'MAX_CONCURRENT_RECONCILES', label: 'max concurrent reconciles', default: 4, min: 1, max: 1000, help: 'workers per controller' }),
  resyncPeriodSeconds: int({ name: 'resync-period', env: 'RESYNC_PERIOD', value: 'SECONDS', label: 'resync period', default: 600, min: 0, max: 86400 * 7, help: 'periodic resync of every cached object; 0 turns it off' }),
  bootServerURL: url({ name: 'boot-server-url', env: 'BOOT_SERVER_URL', label: 'boot server URL', default: 'http://127.0.0.1:8080', help: 'base URL machines reach the boot-server at' }),
  webhookRetries: text({
    name: 'webhook-retries',
    env: 'WEBHOOK_RETRIES',
    value: 'SECONDS,...',
    default: DEFAULT_WEBHOOK_RETRIES.join(','),
    check: (v) => (parseWebhookRetries(v) ? undefined : `webhook retries must be "none" or up to 20 comma-separated whole seconds of 0 to 600, got "${v}"`),
    help: "the installer's webhook reporter sleeps this long before each retry of a failed POST (curtin's retries); none: no retry",
  }),
  retryBaseSeconds: int({ name: 'retry-base-seconds', env: 'RETRY_BASE_SECONDS', label: 'retry base seconds', default: 30, min: 1, max: 86400, help: 'first retry delay after a failed install; doubles per retry' }),
  maxConcurrentPowerOps: int({ name: 'max-concurrent-power-ops', env: 'MAX_CONCURRENT_POWER_OPS', label: 'max concurrent power ops', default: 10, min: 1, max: 10000, help: 'power actions running at once across all hosts' }),
  powerPollSeconds: int({ name: 'power-poll-seconds', env: 'POWER_POLL_SECONDS', label: 'power poll seconds', default: 60, min: 1, max: 86400, help: 'how often each BMC is asked for the power state' }),
  bmcTimeoutSeconds: int({ name: 'bmc-timeout-seconds', env: 'BMC_TIMEOUT_SECONDS', label: 'BMC timeout seconds', default: 20, min: 1, max: 600, help: 'upper bound of one BMC request' }),
  dashboardPort: int({ name: 'dashboard-port', env: 'DASHBOARD_PORT', label: 'dashboard port', default: 0, min: 0, max: 65535, help: 'serve the web dashboard (docs/dashboard.md) on this port of the metrics address; 0 turns it off' }),
  databaseURL: text({
    name: 'database-url',
    env: 'DATABASE_URL',
    value: 'URL',
    help: 'install history in PostgreSQL/CockroachDB: serve its API at /api/v1 on the metrics port (with the embedded database the boot-server serves it)',
  }),
} as const;

/** cert-manager Certificates the operator keeps in place for anvil's HTTPS listeners. */
const CERTIFICATE_FLAGS = {
  issuer: text({ name: 'certificate-issuer', env: 'CERTIFICATE_ISSUER', value: '[Issuer/|ClusterIssuer/]NAME', help: "cert-manager issuer for anvil's HTTPS listeners; enables --certificate" }),
  issuerGroup: text({
    name: 'certificate-issuer-group',
    env: 'CERTIFICATE_ISSUER_GROUP',
    value: 'G',
    check: (g) => (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(g) ? undefined : `certificate issuer group "${g}" is not an API group name such as cert-manager.io`),
    help: 'API group of that issuer (default cert-manager.io; external issuers have their own)',
  }),
  certificates: list({ name: 'certificate', env: 'CERTIFICATES', value: 'NAME=SAN,SAN,...', separator: ';', repeatable: true, help: 'a Certificate to keep in place; its Secret is NAME-tls' }),
  namespace: text({
    name: 'certificate-namespace',
    env: 'CERTIFICATE_NAMESPACE',
    value: 'NS',
    default: podNamespace,
    check: namespaceCheck('certificate namespace'),
    help: 'namespace of those Certificates',
  }),
  duration: text({ name: 'certificate-duration', env: 'CERTIFICATE_DURATION', value: 'D', default: '2160h', check: goDuration('certificate duration'), help: 'requested lifetime' }),
  renewBefore: text({ name: 'certificate-renew-before', env: 'CERTIFICATE_RENEW_BEFORE', value: 'D', default: '360h', check: goDuration('certificate renew-before'), help: 'renew this long before expiry' }),
} as const;

/** In help order; the HTTPS listener binds the metrics address unless told otherwise. */
export const FLAGS = {
  operator: OPERATOR_FLAGS,
  https: httpsFlags({ port: 8443, httpHostKey: 'metricsHost' }),
  certificates: CERTIFICATE_FLAGS,
} as const;

export type OperatorConfig = Omit<FlagValues<typeof OPERATOR_FLAGS>, 'webhookRetries'> & {
  /** Seconds the installer's webhook reporter sleeps before each retry of a failed POST. */
  webhookRetries: number[];
  /** The metrics/health/history routes also over HTTPS when a certificate is configured. */
  https: HttpsConfig | undefined;
  /** cert-manager Certificates the operator keeps in place; undefined without --certificate-issuer. */
  certificates: CertificateSettings | undefined;
};

export const helpText = (): string => renderHelp('anvil operator', FLAGS);

/** Parses argv and env; throws ConfigError listing every problem, or returns 'help' when --help is given. */
export const loadConfig = (argv: string[], env: NodeJS.ProcessEnv): OperatorConfig | 'help' =>
  configFromFlags(FLAGS, argv, env, (values, problems) => ({
    ...values.operator,
    webhookRetries: parseWebhookRetries(values.operator.webhookRetries) ?? [...DEFAULT_WEBHOOK_RETRIES],
    https: httpsConfig(values.https, problems),
    certificates: certificateSettings(values.certificates, problems),
  }));

function certificateSettings(flags: FlagValues<typeof CERTIFICATE_FLAGS>, problems: string[]): CertificateSettings | undefined {
  const { issuer: issuerValue, issuerGroup, certificates: entries, namespace, duration, renewBefore } = flags;
  if (!issuerValue) {
    if (entries.length) problems.push('--certificate needs --certificate-issuer (the cert-manager Issuer or ClusterIssuer to ask)');
    return undefined;
  }
  const issuer = parseIssuerFlag(issuerValue, problems);
  if (issuer && issuerGroup) issuer.group = issuerGroup;
  if (!entries.length) problems.push('--certificate-issuer needs at least one --certificate NAME=SAN,...');
  const certificates = entries.map((e) => parseCertificateFlag(e, problems)).filter((c) => c !== undefined);
  return issuer ? { namespace, issuer, certificates, duration, renewBefore } : undefined;
}
