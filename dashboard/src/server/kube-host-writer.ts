// The HostWriter on the Kubernetes API: the action's JSON patch on the BareMetalHost (the operator's ServiceAccount
// may patch hosts; the dashboard asked the user's RBAC first), and an Event on the host through the operator's recorder.
import { AnvilResources } from '@anvil/core/api';
import { ApiError, type KubeClient } from '@anvil/core/kube';
import { HostWriteError, type HostWriter } from './ports.js';

export type ActionEventSink = (host: { namespace: string; name: string; uid?: string }, action: string, note: string) => void;

export class KubeHostWriter implements HostWriter {
  constructor(
    private readonly client: KubeClient,
    private readonly onAction?: ActionEventSink,
  ) {}

  async patchHost(namespace: string, name: string, ops: readonly unknown[]): Promise<void> {
    try {
      await this.client.patch(AnvilResources.bareMetalHost, { namespace, name }, 'json', ops);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === 404) throw new HostWriteError(404, `no BareMetalHost ${namespace}/${name}`);
      // 422: a failed `test` op (the spec changed since the page loaded; the API server's answer to it)
      if (err.code === 409 || err.code === 422) {
        throw new HostWriteError(409, `${namespace}/${name} changed meanwhile (${err.message}); reload it and try again`);
      }
      throw new HostWriteError(503, `the API server refused the change to ${namespace}/${name}: ${err.message}`);
    }
  }

  recordAction(host: { namespace: string; name: string; uid?: string }, action: string, note: string): void {
    this.onAction?.(host, action, note);
  }
}
