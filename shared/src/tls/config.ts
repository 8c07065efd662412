// The HTTPS flags both processes share: a certificate and key from files (a cert-manager Secret mounted as a volume).
import { derived, int, text, type FlagValues } from '../config/flags.js';

export interface HttpsConfig {
  certFile: string;
  keyFile: string;
  host: string;
  port: number;
}

/** The HTTPS flags of a process whose HTTP bind address is its flag `httpHostKey` (read before these). */
export const httpsFlags = (defaults: { port: number; httpHostKey: string }) =>
  ({
    certFile: text({ name: 'tls-cert-file', env: 'TLS_CERT_FILE', value: 'PATH', help: 'PEM certificate (chain) for the HTTPS listener; reloaded when it changes' }),
    keyFile: text({ name: 'tls-key-file', env: 'TLS_KEY_FILE', value: 'PATH', help: 'PEM private key of that certificate' }),
    port: int({ name: 'https-port', env: 'HTTPS_PORT', label: 'https port', default: defaults.port, min: 0, max: 65535, help: 'HTTPS port, served only with a certificate' }),
    host: text({
      name: 'https-host',
      env: 'HTTPS_HOST',
      value: 'ADDR',
      help: 'HTTPS bind address',
      default: derived('the HTTP bind address', ({ values }) => String(values[defaults.httpHostKey])),
    }),
  }) as const;

/** HTTPS is on when a certificate file is configured; the files may not exist yet (cert-manager still issuing). */
export function httpsConfig(flags: FlagValues<ReturnType<typeof httpsFlags>>, problems: string[]): HttpsConfig | undefined {
  const { certFile, keyFile, port, host } = flags;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) {
    problems.push('tls-cert-file and tls-key-file go together: give both or neither');
    return undefined;
  }
  return { certFile, keyFile, port, host };
}
