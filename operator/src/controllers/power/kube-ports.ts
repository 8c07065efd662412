// PowerPorts backed by the API server: credentials from the Secret named in spec.bmc, drivers kept per host while
// their inputs stay the same (a Redfish session is reused), and one operator-wide limit on power actions.
import { AnvilResources, type BareMetalHost } from '@anvil/core/api';
import { bootConfigSecretName, fromSecret } from '@anvil/core/bootconfig';
import { CoreResources, isNotFound, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { PowerError, type BmcCredentials, type PowerDriver } from '../../power/driver.js';
import type { ConcurrencyLimiter } from '../../power/limiter.js';
import { createPowerDriver, needsCredentials, type DriverAdapters } from '../../power/registry.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { PowerPorts } from './ports.js';

export interface KubePowerPortsDeps {
  client: KubeClient;
  recorder: EventRecorder;
  limiter: ConcurrencyLimiter;
  /** Upper bound of one BMC request. */
  requestTimeoutMs: number;
  adapters?: DriverAdapters;
}

type SecretObject = KubeObject & { data?: Record<string, string> };

export class KubePowerPorts implements PowerPorts {
  private readonly drivers = new Map<string, { fingerprint: string; driver: PowerDriver }>();

  constructor(private readonly deps: KubePowerPortsDeps) {}

  async driverFor(host: BareMetalHost): Promise<{ driver: PowerDriver; created: boolean }> {
    const bmc = host.spec.bmc!;
    const key = `${host.metadata.namespace}/${host.metadata.name}`;
    const { credentials, version } = await this.credentials(host);
    const fingerprint = JSON.stringify([host.metadata.uid, bmc.address, version, bmc.disableCertificateVerification ?? false, host.spec.bootMACAddress, host.spec.bootMode]);
    const cached = this.drivers.get(key);
    if (cached?.fingerprint === fingerprint) return { driver: cached.driver, created: false };
    if (cached) await cached.driver.close();
    this.drivers.delete(key);
    const driver = createPowerDriver(
      {
        address: bmc.address,
        credentials,
        insecureTLS: bmc.disableCertificateVerification ?? false,
        bootMAC: host.spec.bootMACAddress,
        bootMode: host.spec.bootMode ?? 'UEFI',
        timeoutMs: this.deps.requestTimeoutMs,
      },
      this.deps.adapters,
    );
    this.drivers.set(key, { fingerprint, driver });
    return { driver, created: true };
  }

  async forgetDriver(namespace: string, name: string): Promise<void> {
    const key = `${namespace}/${name}`;
    const cached = this.drivers.get(key);
    this.drivers.delete(key);
    await cached?.driver.close();
  }

  async freshHost(host: BareMetalHost): Promise<BareMetalHost | undefined> {
    return this.deps.client.get<BareMetalHost>(AnvilResources.bareMetalHost, { namespace: host.metadata.namespace, name: host.metadata.name! });
  }

  async installerPublished(host: BareMetalHost, installationId: string): Promise<boolean> {
    const secret = await this.deps.client.get(CoreResources.secret, { namespace: host.metadata.namespace, name: bootConfigSecretName(host.metadata.name!) });
    if (!secret) return false;
    const config = fromSecret(secret);
    return config?.mode === 'install' && config.install?.installationId === installationId;
  }

  limit<T>(action: () => Promise<T>): Promise<T> {
    return this.deps.limiter.run(action);
  }

  event(host: BareMetalHost, type: 'Normal' | 'Warning', reason: string, note: string): void {
    this.deps.recorder.event(host, type, reason, 'PowerControl', note);
  }

  private async credentials(host: BareMetalHost): Promise<{ credentials: BmcCredentials; version: string }> {
    const bmc = host.spec.bmc!;
    const name = bmc.credentialsSecretRef?.name;
    if (!name) {
      if (!needsCredentials(bmc.address)) return { credentials: {}, version: '' };
      throw new PowerError('InvalidConfig', 'spec.bmc.credentialsSecretRef is not set; this BMC needs credentials', 'NoCredentialsSecret');
    }
    let secret: SecretObject | undefined;
    try {
      secret = await this.deps.client.get<SecretObject>(CoreResources.secret, { namespace: host.metadata.namespace, name });
    } catch (err) {
      if (isNotFound(err)) secret = undefined;
      else if ((err as { code?: number }).code === 403) {
        throw new PowerError('InvalidConfig', `the operator may not read Secret ${host.metadata.namespace}/${name} (RBAC)`, 'SecretForbidden');
      } else throw err;
    }
    if (!secret) throw new PowerError('InvalidConfig', `credentials Secret ${host.metadata.namespace}/${name} (spec.bmc.credentialsSecretRef) does not exist`, 'SecretNotFound');
    const credentials = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    return { credentials, version: secret.metadata.resourceVersion ?? '' };
  }
}
