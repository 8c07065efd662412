// Every controller the operator runs is registered here. Each lives in its own folder under controllers/.
import type { Logger } from 'pino';
import { AnvilResources, type AutoinstallTemplate, type BareMetalHost, type ProxmoxTemplate } from '@anvil/core/api';
import { BOOT_CONFIG_LABEL, normalizeMac } from '@anvil/core/bootconfig';
import { CoreResources, type KubeObject } from '@anvil/core/kube';
import type { TemplateRenderer } from '../render/index.js';
import type { Manager } from '../runtime/manager.js';
import { watch } from '../runtime/controller.js';
import type { Request } from '../runtime/reconciler.js';
import { AutoinstallTemplateReconciler } from './autoinstalltemplate/controller.js';
import { BareMetalHostReconciler, hostChangeMatters } from './baremetalhost/controller.js';
import { HOST_MAC_INDEX, HOST_SECRET_INDEX, KubeHostPorts, hostMacIndex, hostSecretIndex } from './baremetalhost/kube-ports.js';
import { makeHostRender } from './baremetalhost/render-host.js';
import { validationIdentity } from './baremetalhost/ports.js';
import { RolloutReconciler, type RolloutHistory } from './rollout/controller.js';
import { probe } from '../rollout/index.js';
import { PowerReconciler, powerChangeMatters } from './power/controller.js';
import { KubePowerPorts } from './power/kube-ports.js';
import type { PowerControllerConfig } from './power/ports.js';
import { ProxmoxTemplateReconciler, templateChangeMatters } from './proxmoxtemplate/controller.js';
import { KubeTemplatePorts, type KubeTemplatePortsDeps } from './proxmoxtemplate/kube-ports.js';
import type { TemplateControllerConfig } from './proxmoxtemplate/ports.js';
import { ConcurrencyLimiter } from '../power/limiter.js';
import type { DriverAdapters } from '../power/registry.js';

export interface ControllerDeps {
  maxConcurrentReconciles: number;
  log: Logger;
  bootServerURL: string;
  /** Seconds the installer's webhook reporter sleeps before each retry of a failed POST; none when unset. */
  webhookRetries?: readonly number[];
  retryBaseMs?: number;
  renderer?: TemplateRenderer;
  power?: PowerSettings;
  proxmox?: ProxmoxSettings;
  /** Where rollout decisions are recorded (the install history), when the operator has a database. */
  rolloutHistory?: RolloutHistory;
}

export interface ProxmoxSettings extends Partial<TemplateControllerConfig>, Pick<KubeTemplatePortsDeps, 'history' | 'fetchText' | 'clientOptions'> {}

export interface PowerSettings extends Partial<PowerControllerConfig> {
  /** Power actions running at once across all hosts (--max-concurrent-power-ops). */
  maxConcurrentOps?: number;
  /** Upper bound of one BMC request. */
  requestTimeoutMs?: number;
  adapters?: DriverAdapters;
}

/** Registers the controllers and returns their names. */
export function registerControllers(manager: Manager, deps: ControllerDeps): string[] {
  const hosts = manager.informer<BareMetalHost>(AnvilResources.bareMetalHost);
  const templates = manager.informer<AutoinstallTemplate>(AnvilResources.autoinstallTemplate);
  const bootConfigs = manager.informer<KubeObject>(CoreResources.secret, { labelSelector: `${BOOT_CONFIG_LABEL}=true` });
  // Only the metadata of the Secrets hosts may reference (never their values, never anvil's own boot configs): a
  // Secret's resourceVersion tells whether a host must be rendered again, and its changes re-validate the hosts.
  const referencedSecrets = manager.informer<KubeObject>(CoreResources.secret, { labelSelector: `${BOOT_CONFIG_LABEL}!=true`, metadataOnly: true });
  const client = manager.client;
  hosts.addIndex(HOST_MAC_INDEX, hostMacIndex);
  hosts.addIndex(HOST_SECRET_INDEX, hostSecretIndex);

  const ports = new KubeHostPorts({
    client,
    hosts,
    bootConfigs,
    templates,
    recorder: manager.recorder,
    bootServerURL: deps.bootServerURL,
    ...(deps.webhookRetries ? { webhookRetries: deps.webhookRetries } : {}),
    render: makeHostRender({ client, templates, secrets: referencedSecrets, ...(deps.renderer ? { renderer: deps.renderer } : {}) }),
  });
  const toRequests = (list: KubeObject[]): Request[] => list.map((h) => ({ namespace: h.metadata.namespace!, name: h.metadata.name! }));
  const hostsInNamespace = (obj: KubeObject): Request[] => toRequests(hosts.list(obj.metadata.namespace));
  const hostsSharingMac = (obj: BareMetalHost): Request[] => {
    const mac = obj.spec?.bootMACAddress;
    if (!mac) return [];
    return ports
      .hostsWithMac(normalizeMac(mac))
      .filter((h) => h.metadata.uid !== obj.metadata.uid)
      .map((h) => ({ namespace: h.metadata.namespace!, name: h.metadata.name! }));
  };

  manager.addController({
    name: 'baremetalhost',
    for: hosts,
    owns: [bootConfigs],
    watches: [
      // A template change can make an invalid host valid (or the reverse); installed hosts are not reinstalled by it.
      watch(templates, hostsInNamespace),
      // When a host gives up a MAC (deleted, changed), the host that was refused it may now take it.
      watch(hosts, hostsSharingMac),
      // A Secret created, changed or deleted changes what its hosts render (or whether they can).
      watch(referencedSecrets, (obj) => toRequests(hosts.byIndex(HOST_SECRET_INDEX, `${obj.metadata.namespace}/${obj.metadata.name}`))),
    ],
    updatePredicate: hostChangeMatters,
    maxConcurrentReconciles: deps.maxConcurrentReconciles,
    reconciler: new BareMetalHostReconciler({
      client,
      hosts,
      ports,
      log: deps.log.child({ controller: 'baremetalhost' }),
      config: { retryBaseMs: deps.retryBaseMs ?? 30_000, retryMaxMs: 3_600_000 },
    }),
  });

  manager.addController({
    name: 'autoinstalltemplate',
    for: templates,
    // A base template's change changes the validity of every template that extends or includes it.
    watches: [watch(templates, (obj) => toRequests(templates.list(obj.metadata.namespace)))],
    updatePredicate: (o, n) => o.metadata.generation !== n.metadata.generation,
    maxConcurrentReconciles: deps.maxConcurrentReconciles,
    reconciler: new AutoinstallTemplateReconciler(client, templates),
  });
  manager.addController({
    name: 'rollout',
    for: templates,
    // A host's install progressing (or failing) moves its template's rollout on.
    watches: [watch(hosts, (obj) => (obj.spec?.templateRef?.name ? [{ namespace: obj.metadata.namespace!, name: obj.spec.templateRef.name }] : []))],
    maxConcurrentReconciles: deps.maxConcurrentReconciles,
    reconciler: new RolloutReconciler({
      client,
      templates,
      hosts,
      render: (host, revision) => ports.render({ ...host, spec: { ...host.spec, templateRef: { name: host.spec.templateRef!.name, revision } } }, validationIdentity(host)),
      prober: probe,
      recorder: manager.recorder,
      registry: manager.metrics.registry,
      ...(deps.rolloutHistory ? { history: deps.rolloutHistory } : {}),
      identity: manager.identity,
    }),
  });
  const { maxConcurrentOps = 10, requestTimeoutMs = 20_000, adapters, ...powerConfig } = deps.power ?? {};
  manager.addController({
    name: 'power',
    for: hosts,
    updatePredicate: powerChangeMatters,
    maxConcurrentReconciles: deps.maxConcurrentReconciles,
    reconciler: new PowerReconciler({
      client,
      hosts,
      ports: new KubePowerPorts({ client, recorder: manager.recorder, limiter: new ConcurrencyLimiter(maxConcurrentOps), requestTimeoutMs, ...(adapters ? { adapters } : {}) }),
      log: deps.log.child({ controller: 'power' }),
      config: powerConfig,
    }),
  });

  const proxmoxTemplates = manager.informer<ProxmoxTemplate>(AnvilResources.proxmoxTemplate);
  const { history, fetchText, clientOptions, ...proxmoxConfig } = deps.proxmox ?? {};
  manager.addController({
    name: 'proxmoxtemplate',
    for: proxmoxTemplates,
    updatePredicate: templateChangeMatters,
    maxConcurrentReconciles: deps.maxConcurrentReconciles,
    reconciler: new ProxmoxTemplateReconciler({
      client,
      templates: proxmoxTemplates,
      ports: new KubeTemplatePorts({
        client,
        recorder: manager.recorder,
        log: deps.log.child({ controller: 'proxmoxtemplate' }),
        registry: manager.metrics.registry,
        ...(history ? { history } : {}),
        ...(fetchText ? { fetchText } : {}),
        ...(clientOptions ? { clientOptions } : {}),
      }),
      log: deps.log.child({ controller: 'proxmoxtemplate' }),
      config: proxmoxConfig,
    }),
  });
  return ['baremetalhost', 'autoinstalltemplate', 'power', 'proxmoxtemplate', 'rollout'];
}
