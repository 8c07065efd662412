import { fileURLToPath } from 'node:url';
import { documentedFlagTable } from '@anvil/core/config';
import { ConfigError, FLAGS, helpText, loadConfig } from './config.js';

describe('operator config', () => {
  it('has sane defaults', () => {
    const c = loadConfig([], {});
    expect(c).toMatchObject({ namespaces: [], metricsPort: 8080, leaderElect: true, leaderElectionId: 'anvil-operator', logLevel: 'info', maxConcurrentReconciles: 4 });
  });

  it('takes flags over environment', () => {
    const c = loadConfig(['--namespace', 'a,b', '--metrics-port', '9000', '--leader-elect', 'false'], { WATCH_NAMESPACE: 'x', METRICS_PORT: '1', POD_NAMESPACE: 'anvil-system' });
    expect(c).toMatchObject({ namespaces: ['a', 'b'], metricsPort: 9000, leaderElect: false, leaderElectionNamespace: 'anvil-system' });
  });

  it('reports every problem at once with a clear message', () => {
    let err: unknown;
    try {
      loadConfig(['--metrics-port', '70000', '--log-level', 'loud', '--namespace', 'Bad_NS', '--boot-server-url', 'ftp://x'], { LEADER_ELECT: 'maybe' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toMatch(/metrics port must be an integer between 0 and 65535, got "70000"/);
    expect(problems).toMatch(/log level must be one of/);
    expect(problems).toMatch(/namespace "Bad_NS"/);
    expect(problems).toMatch(/leader-elect must be true or false, got "maybe"/);
    expect(problems).toMatch(/boot server URL must be an http\(s\) URL/);
  });

  it('rejects unknown flags', () => {
    expect(() => loadConfig(['--frobnicate'], {})).toThrow(/Unknown option '--frobnicate'/);
  });

  it('serves HTTPS only with both a certificate and a key', () => {
    expect(loadConfig([], {})).toMatchObject({ https: undefined });
    expect(loadConfig(['--tls-cert-file', '/tls/tls.crt'], { TLS_KEY_FILE: '/tls/tls.key', HTTPS_PORT: '9443' })).toMatchObject({ https: { certFile: '/tls/tls.crt', keyFile: '/tls/tls.key', port: 9443, host: '0.0.0.0' } });
    expect(() => loadConfig(['--tls-cert-file', '/tls/tls.crt'], {})).toThrow(/tls-cert-file and tls-key-file go together/);
  });

  it('binds HTTPS to the metrics address unless --https-host says otherwise', () => {
    const tls = ['--tls-cert-file', 'c', '--tls-key-file', 'k'];
    expect(loadConfig([...tls, '--metrics-host', '10.0.0.1'], {})).toMatchObject({ https: { host: '10.0.0.1', port: 8443 } });
    expect(loadConfig([...tls, '--metrics-host', '10.0.0.1'], { HTTPS_HOST: '10.0.0.2' })).toMatchObject({ https: { host: '10.0.0.2' } });
  });

  it('takes the namespaces of the Lease and the Certificates and its identity from the pod', () => {
    const c = loadConfig(['--certificate-issuer', 'ca', '--certificate', 'a=b'], { POD_NAMESPACE: 'anvil-system', POD_NAME: 'anvil-operator-0' });
    expect(c).toMatchObject({ leaderElectionNamespace: 'anvil-system', identity: 'anvil-operator-0', certificates: { namespace: 'anvil-system' } });
    expect(loadConfig([], {})).toMatchObject({ leaderElectionNamespace: 'default', identity: expect.stringMatching(new RegExp(`_${process.pid}$`)) });
  });

  it('lists every flag with its variable in --help', () => {
    expect(helpText()).toMatch(/^ {2}--leader-elect BOOL +run leader election \(default true\) \[LEADER_ELECT\]$/m);
    expect(helpText()).toMatch(/^ {2}--certificate NAME=SAN,SAN,\.\.\. .*\(repeatable; env:\s+';'-separated\) \[CERTIFICATES\]$/m);
    expect(helpText()).toMatch(/^ {2}--help +print this help$/m);
  });

  it("reads the installer webhook's retries: curtin's naps by default, a list, none, and refuses nonsense", () => {
    expect(loadConfig([], {})).toMatchObject({ webhookRetries: [1, 2, 4, 8, 16, 32, 64] });
    expect(loadConfig(['--webhook-retries', '3, 5'], {})).toMatchObject({ webhookRetries: [3, 5] });
    expect(loadConfig([], { WEBHOOK_RETRIES: 'none' })).toMatchObject({ webhookRetries: [] });
    expect(() => loadConfig(['--webhook-retries', '1,-2'], {})).toThrow(/webhook retries must be "none" or up to 20 comma-separated whole seconds of 0 to 600, got "1,-2"/);
    expect(() => loadConfig(['--webhook-retries', '601'], {})).toThrow(/webhook retries/);
  });

  it('is documented in docs/configuration.md as declared', () => {
    const { actual, expected } = documentedFlagTable(fileURLToPath(new URL('../../docs/configuration.md', import.meta.url)), 'operator', FLAGS);
    expect(actual).toEqual(expected);
  });

  it('reads the Certificates to keep from repeated flags or a ;-separated variable', () => {
    const c = loadConfig(['--certificate-issuer', 'Issuer/lab-ca', '--certificate', 'anvil-boot-server=boot.lab,10.0.0.2', '--certificate', 'anvil-operator=op.svc'], { POD_NAMESPACE: 'anvil-system' });
    expect(c).toMatchObject({
      certificates: {
        namespace: 'anvil-system',
        issuer: { kind: 'Issuer', name: 'lab-ca', group: 'cert-manager.io' },
        certificates: [
          { name: 'anvil-boot-server', subjectAltNames: ['boot.lab', '10.0.0.2'] },
          { name: 'anvil-operator', subjectAltNames: ['op.svc'] },
        ],
        duration: '2160h',
        renewBefore: '360h',
      },
    });
    const fromEnv = loadConfig([], { CERTIFICATE_ISSUER: 'ca', CERTIFICATES: 'a=a.example; b=10.1.1.1', CERTIFICATE_ISSUER_GROUP: 'awspca.cert-manager.io' });
    expect(fromEnv).toMatchObject({ certificates: { issuer: { kind: 'ClusterIssuer', name: 'ca', group: 'awspca.cert-manager.io' }, certificates: [{ name: 'a' }, { name: 'b', subjectAltNames: ['10.1.1.1'] }] } });
  });

  it('explains bad certificate settings', () => {
    const problems = (args: string[]): string => {
      try {
        loadConfig(args, {});
      } catch (e) {
        return (e as ConfigError).problems.join('\n');
      }
      throw new Error('accepted');
    };
    expect(problems(['--certificate', 'a=b'])).toMatch(/--certificate needs --certificate-issuer/);
    expect(problems(['--certificate-issuer', 'ca'])).toMatch(/needs at least one --certificate/);
    expect(problems(['--certificate-issuer', 'ca', '--certificate', 'no-sans'])).toMatch(/must look like NAME=dns-name,ip-address/);
    expect(problems(['--certificate-issuer', 'ca', '--certificate', 'x=bad name!'])).toMatch(/"bad name!" is neither a DNS name nor an IP address/);
    expect(problems(['--certificate-issuer', 'ca', '--certificate', 'x=y', '--certificate-duration', '90 days'])).toMatch(/Go duration/);
  });
});
