// The cert-manager Certificate anvil asks for, one per listener (boot-server HTTPS, operator metrics/API).
import { isIP } from 'node:net';
import type { KubeObject, ResourceType } from '@anvil/core/kube';

export const CertificateType: ResourceType = { group: 'cert-manager.io', version: 'v1', kind: 'Certificate', plural: 'certificates', namespaced: true };

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'anvil-operator';

export interface IssuerRef {
  /** Issuer, ClusterIssuer, or an external issuer's kind. */
  kind: string;
  name: string;
  group: string;
}

export interface CertificateRequestSpec {
  /** Name of the Certificate; its Secret is `<name>-tls`, the one the chart mounts. */
  name: string;
  /** DNS names and IP addresses, in any order; told apart here. */
  subjectAltNames: string[];
}

export interface CertificateSettings {
  namespace: string;
  issuer: IssuerRef;
  certificates: CertificateRequestSpec[];
  duration: string;
  renewBefore: string;
}

export interface CertificateSpec {
  secretName: string;
  issuerRef: IssuerRef;
  dnsNames?: string[];
  ipAddresses?: string[];
  duration: string;
  renewBefore: string;
  usages: string[];
  privateKey: { algorithm: string; size: number; rotationPolicy: string };
}

/** What anvil reads of a Certificate's status (cert-manager writes it). */
export interface CertificateStatus {
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  notAfter?: string;
}

export type Certificate = KubeObject<CertificateSpec, CertificateStatus>;

export function desiredCertificate(settings: CertificateSettings, request: CertificateRequestSpec): Certificate {
  const ipAddresses = request.subjectAltNames.filter((n) => isIP(n) !== 0);
  const dnsNames = request.subjectAltNames.filter((n) => isIP(n) === 0);
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: request.name, namespace: settings.namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    spec: {
      secretName: `${request.name}-tls`,
      issuerRef: settings.issuer,
      ...(dnsNames.length ? { dnsNames } : {}),
      ...(ipAddresses.length ? { ipAddresses } : {}),
      duration: settings.duration,
      renewBefore: settings.renewBefore,
      usages: ['server auth', 'digital signature'],
      // A new key on every renewal: a leaked key is useful only until the next rotation.
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
    },
  };
}

/** The fields anvil sets that differ from what the cluster has (others, e.g. set by users or webhooks, are left alone). */
export function specDrift(desired: CertificateSpec, actual: Partial<CertificateSpec> | undefined): Partial<CertificateSpec> | undefined {
  const drift: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(desired)) {
    if (canonical(value) !== canonical((actual as Record<string, unknown> | undefined)?.[key])) drift[key] = value;
  }
  return Object.keys(drift).length ? (drift as Partial<CertificateSpec>) : undefined;
}

/** JSON with object keys sorted: the API server does not keep the order we sent. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/** Parses `NAME=SAN,SAN,...` (the --certificate flag). */
export function parseCertificateFlag(value: string, problems: string[]): CertificateRequestSpec | undefined {
  const m = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)=(.+)$/.exec(value.trim());
  if (!m) {
    problems.push(`certificate "${value}" must look like NAME=dns-name,ip-address,... (e.g. anvil-boot-server=boot.lab.example,10.0.0.2)`);
    return undefined;
  }
  const subjectAltNames = m[3]!.split(',').map((s) => s.trim()).filter(Boolean);
  for (const san of subjectAltNames) {
    if (isIP(san) === 0 && !/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(san)) {
      problems.push(`certificate ${m[1]}: "${san}" is neither a DNS name nor an IP address`);
    }
  }
  return { name: m[1]!, subjectAltNames };
}

/** Parses `Kind/name` (the --certificate-issuer flag); the kind defaults to ClusterIssuer. */
export function parseIssuerFlag(value: string, problems: string[]): IssuerRef | undefined {
  const m = /^(?:([A-Z][A-Za-z0-9]*)\/)?([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(value.trim());
  if (!m) {
    problems.push(`certificate issuer "${value}" must be [Kind/]name, e.g. ClusterIssuer/lab-ca or Issuer/lab-ca`);
    return undefined;
  }
  return { kind: m[1] ?? 'ClusterIssuer', name: m[2]!, group: 'cert-manager.io' };
}
