import { ConfigError, loadConfig } from './config.js';

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
});
