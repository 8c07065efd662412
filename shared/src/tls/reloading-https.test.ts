import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCertificate as issue, SecretVolume, servedFingerprint, type IssuedCertificate as Issued } from '../../../test/harness/tls.js';
import { silentLogger } from '../logging.js';
import { ReloadingHttpsServer, type LoadedCertificate } from './reloading-https.js';

describe('ReloadingHttpsServer', () => {
  let dir: string;
  let a: Issued;
  let b: Issued;
  let server: ReloadingHttpsServer | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'anvil-tls-'));
    a = issue(dir, 'first');
    b = issue(dir, 'second');
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function start(volume: SecretVolume, loads: LoadedCertificate[] = [], errors: string[] = []): ReloadingHttpsServer {
    server = new ReloadingHttpsServer({
      certFile: volume.certFile,
      keyFile: volume.keyFile,
      host: '127.0.0.1',
      port: 0,
      handler: (_req, res) => res.end('ok'),
      log: silentLogger(),
      pollMs: 3_600_000, // the test drives check() itself
      onLoad: (c) => loads.push(c),
      onError: (m) => errors.push(m),
    });
    return server;
  }

  it('serves the rotated certificate on the next handshake without a restart', async () => {
    const volume = new SecretVolume(join(dir, 'rotate'));
    volume.write(a);
    const loads: LoadedCertificate[] = [];
    const s = start(volume, loads);
    await s.start();
    const port = s.port!;
    expect(await servedFingerprint(port)).toBe(a.fingerprint);

    volume.write(b);
    await s.check();
    expect(s.port).toBe(port);
    expect(await servedFingerprint(port)).toBe(b.fingerprint);
    expect(loads.map((l) => l.fingerprint)).toEqual([a.fingerprint, b.fingerprint]);
    expect(loads[1]!.subject).toContain('CN=second');
  });

  it('binds only once the certificate exists, and keeps the old pair when the new one does not match', async () => {
    const volume = new SecretVolume(join(dir, 'late'));
    const errors: string[] = [];
    const s = start(volume, [], errors);
    await s.start();
    expect(s.port).toBeUndefined();

    volume.write(a);
    await s.check();
    await s.whenListening();
    expect(await servedFingerprint(s.port!)).toBe(a.fingerprint);

    volume.write({ cert: b.cert, key: a.key }); // a broken Secret
    await s.check();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/not a usable pair/);
    expect(await servedFingerprint(s.port!)).toBe(a.fingerprint);
    await s.check(); // the same problem is reported once, not on every poll
    expect(errors).toHaveLength(1);

    volume.write(b);
    await s.check();
    expect(await servedFingerprint(s.port!)).toBe(b.fingerprint);
  });
});
