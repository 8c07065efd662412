import { fileURLToPath } from 'node:url';
import { documentedFlagTable } from '@anvil/core/config';
import { ConfigError, FLAGS, helpText, loadConfig } from './config.js';

const problemsOf = (argv: string[], env: NodeJS.ProcessEnv = {}): string => {
  try {
    loadConfig(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.join('\n');
  }
  throw new Error('accepted');
};

describe('boot-server config', () => {
  it('has the documented defaults', () => {
    expect(loadConfig([], {})).toEqual({
      kubeconfig: undefined,
      namespaces: [],
      httpHost: '0.0.0.0',
      httpPort: 8080,
      https: undefined,
      publicURL: 'http://127.0.0.1:8080',
      tftpHost: '0.0.0.0',
      tftpPort: 69,
      tftpRoot: '/usr/lib/ipxe',
      tftpMaxSessions: 256,
      tftpMaxSessionsPerClient: 16,
      assetDir: '/var/lib/anvil/assets',
      spoolDir: '/var/lib/anvil/spool',
      databaseURL: undefined,
      dataDir: '/var/lib/anvil/history',
      unknownMachine: 'exit',
      discovery: 'record',
      discoveryNamespace: 'default',
      discoveryCreatesPerMinute: 30,
      retentionDays: 90,
      rateLimitPerSecond: 50,
      rateLimitBurst: 500,
      eventGraceSeconds: 1800,
      logLevel: 'info',
      syslogHost: '0.0.0.0',
      syslogPort: 0,
    });
  });

  it('takes flags over environment, and treats an empty database URL or kubeconfig as unset', () => {
    const c = loadConfig(['--namespace', 'a, b', '--tftp-port', '0', '--unknown-machine=shell'], { WATCH_NAMESPACE: 'x', TFTP_PORT: '6969', RETENTION_DAYS: '0', DATABASE_URL: '', KUBECONFIG: '' });
    expect(c).toMatchObject({ namespaces: ['a', 'b'], tftpPort: 0, unknownMachine: 'shell', retentionDays: 0, databaseURL: undefined, kubeconfig: undefined });
  });

  it('derives the public URL from the HTTP port and the HTTPS address from the HTTP address', () => {
    expect(loadConfig(['--http-port', '8081'], {})).toMatchObject({ publicURL: 'http://127.0.0.1:8081' });
    expect(loadConfig([], { PUBLIC_URL: 'http://10.0.0.2:8080//' })).toMatchObject({ publicURL: 'http://10.0.0.2:8080' });
    const tls = { TLS_CERT_FILE: '/tls/tls.crt', TLS_KEY_FILE: '/tls/tls.key' };
    expect(loadConfig(['--http-host', '10.0.0.2'], tls)).toMatchObject({ https: { certFile: '/tls/tls.crt', keyFile: '/tls/tls.key', host: '10.0.0.2', port: 8443 } });
    expect(loadConfig(['--http-host', '10.0.0.2', '--https-host', '10.0.0.3', '--https-port', '443'], tls)).toMatchObject({ https: { host: '10.0.0.3', port: 443 } });
  });

  it('reports every problem at once with a clear message', () => {
    const problems = problemsOf(['--http-port', 'abc', '--log-level', 'loud', '--namespace', 'Bad_NS'], {
      UNKNOWN_MACHINE: 'boot',
      PUBLIC_URL: 'http://a?b',
      TFTP_MAX_SESSIONS: '0',
      RATE_LIMIT_BURST: '0',
      EVENT_GRACE_SECONDS: '999999999',
      TLS_CERT_FILE: '/tls/tls.crt',
    });
    expect(problems.split('\n')).toEqual(
      expect.arrayContaining([
        'http port must be an integer between 0 and 65535, got "abc"',
        'log level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
        'namespace "Bad_NS" is not a valid namespace name',
        'unknown-machine must be exit or shell, got "boot"',
        'public URL must be an http(s) URL without query, e.g. http://10.0.0.2:8080, got "http://a?b"',
        'tftp max sessions must be an integer between 1 and 65535, got "0"',
        'rate limit burst must be an integer between 1 and 1000000, got "0"',
        'event grace seconds must be an integer between 0 and 604800, got "999999999"',
        'tls-cert-file and tls-key-file go together: give both or neither',
      ]),
    );
  });

  it('rejects unknown flags and answers --help', () => {
    expect(problemsOf(['--metrics-port', '1'])).toMatch(/Unknown option '--metrics-port'/);
    expect(loadConfig(['--help'], {})).toBe('help');
    expect(helpText()).toMatch(/^ {2}--tftp-port N +TFTP port; 0 disables TFTP \(default 69\) \[TFTP_PORT\]$/m);
  });

  it('is documented in docs/configuration.md as declared', () => {
    const { actual, expected } = documentedFlagTable(fileURLToPath(new URL('../../docs/configuration.md', import.meta.url)), 'boot-server', FLAGS);
    expect(actual).toEqual(expected);
  });
});
