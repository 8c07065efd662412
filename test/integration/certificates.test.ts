// cert-manager TLS end to end: the operator asks for its Certificates (against cert-manager's real CRDs on a real
// kube-apiserver), says so when cert-manager is missing, and both processes pick up a rotated Secret on the next handshake.
import { jest } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { Registry } from 'prom-client';
import { anvilCrds } from '@anvil/core/api';
import type { KubeClient, KubeObject } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { CertificateManager } from '@anvil/operator/src/controllers/certificates/certificate-manager.js';
import { CertificateType, type Certificate, type CertificateSettings } from '@anvil/operator/src/controllers/certificates/desired.js';
import { KubeEventRecorder } from '@anvil/operator/src/runtime/events.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { freePort, startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, createCrdsAsIs, ensureNamespace, installCrds, readYamlObjects, waitFor, yamlFilesIn } from '../harness/kube.js';
import { ROOT, startBootServer, type RunningProcess } from '../harness/processes.js';
import { issueCertificate, SecretVolume, servedFingerprint, type IssuedCertificate } from '../harness/tls.js';

jest.setTimeout(180_000);

const CERT_MANAGER_CRDS = join(ROOT, '..', 'shared', 'reference', 'crds', 'cert-manager');
const referenceMissing = !existsSync(CERT_MANAGER_CRDS);
const MISSING_MESSAGE = `cert-manager's CRDs are not at ${CERT_MANAGER_CRDS} (see ../shared/reference/crds/README.md); CI always has them`;
if (referenceMissing && !process.env.CI) console.warn(`skipping the cert-manager tests: ${MISSING_MESSAGE}`);
const describeWithCrds = referenceMissing && !process.env.CI ? describe.skip : describe;

const ns = 'anvil-system';
const EventType = { group: 'events.k8s.io', version: 'v1', kind: 'Event', plural: 'events', namespaced: true };

// One API server for the file: the Certificates live in their own namespace, the HTTPS tests need only a server.
let cp: ControlPlane;
beforeAll(async () => {
  cp = await startControlPlane();
});
afterAll(async () => {
  await cp?.stop();
});

describeWithCrds('cert-manager Certificates requested by the operator', () => {
  let client: KubeClient;
  const settings: CertificateSettings = {
    namespace: ns,
    issuer: { kind: 'ClusterIssuer', name: 'lab-ca', group: 'cert-manager.io' },
    certificates: [
      { name: 'anvil-boot-server', subjectAltNames: ['boot.lab.example', '10.0.0.2', 'anvil-boot-server.anvil-system.svc'] },
      { name: 'anvil-operator', subjectAltNames: ['anvil-operator.anvil-system.svc'] },
    ],
    duration: '2160h',
    renewBefore: '360h',
  };

  beforeAll(async () => {
    if (referenceMissing) throw new Error(MISSING_MESSAGE);
    client = clientFor(cp);
    await ensureNamespace(client, ns);
  });

  function manager(registry = new Registry()) {
    const recorder = new KubeEventRecorder(client, 'anvil.dev/operator', 'test', silentLogger());
    const certificates = new CertificateManager({
      client,
      recorder,
      log: silentLogger(),
      settings,
      registry,
      regarding: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'anvil-operator-0', namespace: ns } },
    });
    return { certificates, recorder, registry };
  }

  it('says cert-manager is missing, then requests valid Certificates once it is installed, and reports readiness', async () => {
    const first = manager();
    const missing = await first.certificates.sync();
    expect(missing.map((r) => r.state)).toEqual(['NoCertManager', 'NoCertManager']);
    expect(missing[0]!.message).toMatch(/cert-manager is not installed.*serving HTTP only/);
    await first.recorder.flush();
    const events = (await client.list<KubeObject & { reason?: string; note?: string }>(EventType, { namespace: ns })).items;
    expect(events.some((e) => e.reason === 'CertificateNoCertManager' && e.note?.includes('anvil-boot-server'))).toBe(true);

    await createCrdsAsIs(client, yamlFilesIn(CERT_MANAGER_CRDS).flatMap(readYamlObjects));
    const { certificates, registry } = manager();
    const requested = await certificates.sync();
    expect(requested.map((r) => r.state)).toEqual(['Issuing', 'Issuing']);
    const boot = await client.get<Certificate>(CertificateType, { namespace: ns, name: 'anvil-boot-server' });
    // What the API server kept after validating against cert-manager's own schema.
    expect(boot?.spec).toMatchObject({
      secretName: 'anvil-boot-server-tls',
      issuerRef: { kind: 'ClusterIssuer', name: 'lab-ca', group: 'cert-manager.io' },
      dnsNames: ['boot.lab.example', 'anvil-boot-server.anvil-system.svc'],
      ipAddresses: ['10.0.0.2'],
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
      usages: ['server auth', 'digital signature'],
    });

    const waiting = await certificates.sync(); // nothing to correct, no status yet
    expect(waiting.map((r) => r.message)).toEqual(['waiting for cert-manager to issue it', 'waiting for cert-manager to issue it']);

    // What cert-manager does when it has issued the certificate.
    await client.patch(CertificateType, { namespace: ns, name: 'anvil-boot-server' }, 'merge', { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'up to date' }], notAfter: '2027-02-20T00:00:00Z' } }, { subresource: 'status' });
    await client.patch(CertificateType, { namespace: ns, name: 'anvil-operator' }, 'merge', { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'DoesNotExist', message: 'Issuer lab-ca not found' }] } }, { subresource: 'status' });
    const reports = await certificates.sync();
    expect(reports[0]).toMatchObject({ state: 'Ready', message: expect.stringContaining('2027-02-20') });
    expect(reports[1]).toMatchObject({ state: 'NotReady', message: 'DoesNotExist: Issuer lab-ca not found' });
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/anvil_certificate_ready\{name="anvil-boot-server"\} 1/);
    expect(metrics).toMatch(/anvil_certificate_ready\{name="anvil-operator"\} 0/);
  });

  it('puts back what someone changed in the fields it owns', async () => {
    await client.patch(CertificateType, { namespace: ns, name: 'anvil-boot-server' }, 'merge', { spec: { dnsNames: ['wrong.example'] } });
    const { certificates } = manager();
    const [report] = await certificates.sync();
    expect(report).toMatchObject({ state: 'Issuing', message: 'corrected dnsNames' });
    const boot = await client.get<Certificate>(CertificateType, { namespace: ns, name: 'anvil-boot-server' });
    expect(boot?.spec?.dnsNames).toEqual(['boot.lab.example', 'anvil-boot-server.anvil-system.svc']);
  });
});

describe('HTTPS listeners reload a rotated certificate without a restart', () => {
  let dir: string;
  let first: IssuedCertificate;
  let second: IssuedCertificate;
  let boot: RunningProcess | undefined;
  let manager: Manager | undefined;

  beforeAll(async () => {
    await installCrds(clientFor(cp), anvilCrds as unknown as KubeObject[]);
    dir = mkdtempSync(join(tmpdir(), 'anvil-https-'));
    first = issueCertificate(dir, 'first');
    second = issueCertificate(dir, 'second');
  });
  afterAll(async () => {
    await boot?.kill();
    if (boot) rmSync(boot.dir, { recursive: true, force: true });
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('boot-server: serves iPXE over HTTPS and the next handshake after the Secret changes sees the new certificate', async () => {
    const volume = new SecretVolume(join(dir, 'boot-tls'));
    volume.write(first);
    const httpsPort = await freePort();
    boot = await startBootServer({ kubeconfig: cp.kubeconfigPath, extraArgs: ['--tls-cert-file', volume.certFile, '--tls-key-file', volume.keyFile, '--https-port', String(httpsPort)] });
    const trustFirst = new Agent({ connect: { ca: first.cert } });
    const res = await request(`https://127.0.0.1:${httpsPort}/boot.ipxe`, { dispatcher: trustFirst });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toMatch(/^#!ipxe/);
    expect(await servedFingerprint(httpsPort)).toBe(first.fingerprint);

    volume.write(second); // what the kubelet does when cert-manager renews the Secret
    await waitFor('the rotated certificate', async () => (await servedFingerprint(httpsPort)) === second.fingerprint, 40_000, 500);
    const trustSecond = new Agent({ connect: { ca: second.cert } });
    const after = await request(`https://127.0.0.1:${httpsPort}/healthz`, { dispatcher: trustSecond });
    expect(after.statusCode).toBe(200);
    await after.body.text();
    const metrics = await (await fetch(`${boot.url}/metrics`)).text();
    expect(metrics).toMatch(/anvil_tls_certificate_loads_total 2/);
    expect(boot.child.exitCode).toBeNull(); // the same process all along
  });

  it('operator: serves metrics over HTTPS with the certificate from its Secret', async () => {
    const volume = new SecretVolume(join(dir, 'operator-tls'));
    volume.write(first);
    manager = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'test', healthPort: 0, healthHost: '127.0.0.1', https: { certFile: volume.certFile, keyFile: volume.keyFile, host: '127.0.0.1', port: 0 } });
    await manager.start();
    const port = manager.httpsAddress?.port;
    expect(port).toBeGreaterThan(0);
    const res = await request(`https://127.0.0.1:${port}/metrics`, { dispatcher: new Agent({ connect: { ca: first.cert } }) });
    expect(res.statusCode).toBe(200);
    const text = await res.body.text();
    const expiry = /anvil_tls_certificate_expiry_timestamp_seconds (\d+)/.exec(text);
    expect(Number(expiry?.[1]) * 1000).toBeGreaterThan(Date.now());
    expect(await (await fetch(`http://127.0.0.1:${manager.healthAddress!.port}/healthz`)).text()).toBe('ok'); // HTTP stays
  });
});
