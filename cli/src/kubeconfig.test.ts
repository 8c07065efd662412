import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterError } from './errors.js';
import { defaultNamespace, resolveClusterAccess } from './kubeconfig.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'anvil-kubeconfig-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string): string => {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
};

const config = (o: { current?: string; cluster: string; server: string; user: string; context: string; namespace?: string; userFields?: string; clusterFields?: string }): string =>
  [
    'apiVersion: v1',
    'kind: Config',
    ...(o.current ? [`current-context: ${o.current}`] : []),
    'clusters:',
    `- name: ${o.cluster}`,
    '  cluster:',
    `    server: ${o.server}`,
    ...(o.clusterFields ? [`    ${o.clusterFields}`] : []),
    'users:',
    `- name: ${o.user}`,
    '  user:',
    `    ${o.userFields ?? 'token: t-' + o.user}`,
    'contexts:',
    `- name: ${o.context}`,
    '  context:',
    `    cluster: ${o.cluster}`,
    `    user: ${o.user}`,
    ...(o.namespace ? [`    namespace: ${o.namespace}`] : []),
  ].join('\n');

const failure = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    if (err instanceof ClusterError) return `${err.message} | ${err.hint ?? ''}`;
    throw err;
  }
  return 'no error';
};

describe('finding the cluster like kubectl', () => {
  it('merges the KUBECONFIG list: the first file to name something wins, missing files are skipped', () => {
    const a = file('a/config', config({ current: 'one', cluster: 'c1', server: 'https://one:6443', user: 'u', context: 'one', namespace: 'ns-one' }));
    const b = file('b/config', config({ current: 'two', cluster: 'c1', server: 'https://other:6443', user: 'u2', context: 'two' }));
    const env = { KUBECONFIG: [join(dir, 'missing'), a, b].join(':') };
    const access = resolveClusterAccess({ env });
    expect(access).toMatchObject({ server: 'https://one:6443', namespace: 'ns-one', source: `context "one" of ${a}` });
    expect(access.token?.()).toBe('t-u');
    // context "two" comes from b, but its cluster c1 is a's (first definition wins)
    expect(resolveClusterAccess({ env, context: 'two' })).toMatchObject({ server: 'https://one:6443', namespace: 'default' });
    expect(failure(() => resolveClusterAccess({ env, context: 'three' }))).toBe(`context "three" (from --context) is not in kubeconfig ${a}, ${b} | Contexts there: one, two.`);
  });

  it('reads ~/.kube/config, with paths relative to it, unless --kubeconfig says otherwise', () => {
    file('home/.kube/ca.crt', 'CA');
    file('home/.kube/token', 'from-file\n');
    file('home/.kube/config', config({ current: 'x', cluster: 'c', server: 'https://h:1/', user: 'u', context: 'x', userFields: 'tokenFile: token', clusterFields: 'certificate-authority: ca.crt' }));
    const access = resolveClusterAccess({ env: {}, home: join(dir, 'home') });
    expect(access.server).toBe('https://h:1');
    expect(access.ca?.toString()).toBe('CA');
    expect(access.token?.()).toBe('from-file');
    expect(failure(() => resolveClusterAccess({ env: {}, home: join(dir, 'home'), kubeconfig: join(dir, 'nope') }))).toMatch(/^kubeconfig .*nope \(from --kubeconfig\) does not exist \| Set KUBECONFIG/);
  });

  it('falls back to the pod\'s service account, else says how to configure one', () => {
    file('sa/token', 'sa-token\n');
    file('sa/ca.crt', 'SA-CA');
    file('sa/namespace', 'team-a');
    const env = { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443', ANVIL_SERVICE_ACCOUNT_DIR: join(dir, 'sa') };
    const access = resolveClusterAccess({ env, home: join(dir, 'empty') });
    expect(access).toMatchObject({ server: 'https://[fd00::1]:443', namespace: 'team-a' });
    expect(access.token?.()).toBe('sa-token');
    expect(failure(() => resolveClusterAccess({ env: {}, home: join(dir, 'empty') }))).toMatch(/^no cluster configured: no kubeconfig at .*empty\/\.kube\/config, and not running in a pod \| Set KUBECONFIG or pass --kubeconfig PATH/);
    expect(defaultNamespace({ env: {}, home: join(dir, 'empty') })).toBe('default');
  });

  it('explains a kubeconfig it cannot use', () => {
    const noCurrent = file('no-current', config({ cluster: 'c', server: 'https://h', user: 'u', context: 'only' }));
    expect(failure(() => resolveClusterAccess({ kubeconfig: noCurrent }))).toMatch(/has no current-context \| Pass --context NAME \(one of: only\) or run 'kubectl config use-context NAME'\./);
    const broken = file('broken', 'clusters: [');
    expect(failure(() => resolveClusterAccess({ kubeconfig: broken }))).toMatch(/^kubeconfig .*broken is not valid YAML/);
    const oidc = file('oidc', config({ current: 'x', cluster: 'c', server: 'https://h', user: 'u', context: 'x', userFields: 'auth-provider: {name: oidc}' }));
    expect(failure(() => resolveClusterAccess({ kubeconfig: oidc }))).toMatch(/uses auth-provider "oidc", which anvil does not support \| Use an exec credential plugin/);
  });

  it('runs an exec credential plugin when a token is first needed', () => {
    const plugin = file('bin/get-token', '#!/bin/sh\necho "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"exec-$MY_VAR\\"}}"\n');
    chmodSync(plugin, 0o755);
    const kc = file('exec', config({ current: 'x', cluster: 'c', server: 'https://h', user: 'u', context: 'x', userFields: `exec: {apiVersion: client.authentication.k8s.io/v1, command: ${plugin}, env: [{name: MY_VAR, value: ok}]}` }));
    expect(resolveClusterAccess({ kubeconfig: kc, env: { PATH: process.env.PATH } }).token?.()).toBe('exec-ok');
    const missing = file('exec-missing', config({ current: 'x', cluster: 'c', server: 'https://h', user: 'u', context: 'x', userFields: 'exec: {command: no-such-plugin-anvil, installHint: "install it"}' }));
    expect(failure(() => resolveClusterAccess({ kubeconfig: missing, env: { PATH: process.env.PATH } }).token?.())).toBe('the credential plugin of user "u" did not give a credential: no-such-plugin-anvil is not installed | install it');
  });
});
