// The HTTPS flags both processes share: a certificate and key from files (a cert-manager Secret mounted as a volume).
import { parseInteger } from '../config/parse.js';

export interface HttpsConfig {
  certFile: string;
  keyFile: string;
  host: string;
  port: number;
}

export const HTTPS_FLAGS = ['tls-cert-file', 'tls-key-file', 'https-port', 'https-host'] as const;

export const httpsHelp = (defaultPort: number): string => `  --tls-cert-file PATH       PEM certificate (chain) for the HTTPS listener; reloaded when it changes [TLS_CERT_FILE]
  --tls-key-file PATH        PEM private key of that certificate [TLS_KEY_FILE]
  --https-port N             HTTPS port, served only with a certificate (default ${defaultPort}) [HTTPS_PORT]
  --https-host ADDR          HTTPS bind address (default: the HTTP bind address) [HTTPS_HOST]
`;

/** HTTPS is on when a certificate file is configured; the files may not exist yet (cert-manager still issuing). */
export function parseHttpsConfig(
  get: (flag: string, envName: string) => string | undefined,
  defaults: { port: number; host: string },
  problems: string[],
): HttpsConfig | undefined {
  const certFile = get('tls-cert-file', 'TLS_CERT_FILE') || undefined;
  const keyFile = get('tls-key-file', 'TLS_KEY_FILE') || undefined;
  const port = parseInteger('https port', get('https-port', 'HTTPS_PORT') ?? String(defaults.port), 0, 65535, problems);
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) {
    problems.push('tls-cert-file and tls-key-file go together: give both or neither');
    return undefined;
  }
  return { certFile, keyFile, port, host: get('https-host', 'HTTPS_HOST') ?? defaults.host };
}
