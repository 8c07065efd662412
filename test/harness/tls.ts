// Certificates from openssl and a Secret volume written the way the kubelet writes it, for the rotation tests.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';

export interface IssuedCertificate {
  cert: string;
  key: string;
  fingerprint: string;
}

/** A self-signed ECDSA P-256 certificate, like the ones cert-manager issues for anvil. */
export function issueCertificate(dir: string, cn: string, sans: string[] = ['DNS:localhost', 'IP:127.0.0.1']): IssuedCertificate {
  const keyFile = join(dir, `${cn}.key`);
  const certFile = join(dir, `${cn}.crt`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${sans.join(',')}`, '-keyout', keyFile, '-out', certFile],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(certFile, 'utf8');
  return { cert, key: readFileSync(keyFile, 'utf8'), fingerprint: new X509Certificate(cert).fingerprint256 };
}

/** A kubelet-style Secret volume: files are symlinks through `..data`, which is swapped atomically on update. */
export class SecretVolume {
  private generation = 0;
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    symlinkSync('..data/tls.crt', join(dir, 'tls.crt'));
    symlinkSync('..data/tls.key', join(dir, 'tls.key'));
  }
  get certFile(): string {
    return join(this.dir, 'tls.crt');
  }
  get keyFile(): string {
    return join(this.dir, 'tls.key');
  }
  write(pair: { cert: string; key: string }): void {
    const version = `..v${++this.generation}`;
    mkdirSync(join(this.dir, version));
    writeFileSync(join(this.dir, version, 'tls.crt'), pair.cert);
    writeFileSync(join(this.dir, version, 'tls.key'), pair.key);
    symlinkSync(version, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
  }
}

/** The SHA-256 fingerprint of the certificate a TLS server presents in a fresh handshake. */
export function servedFingerprint(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false }, () => {
      const fp = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
      socket.end();
      resolve(fp);
    });
    socket.on('error', reject);
  });
}
