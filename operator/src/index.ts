// The operator's public entry for the other parts: the CLI's `render`, `diff` and `validate` run the operator's own
// host render pipeline (template chain, sandboxed renderer, secret masking) instead of a copy of it.
export { HOST_MAC_INDEX, KubeHostPorts, hostMacIndex } from './controllers/baremetalhost/kube-ports.js';
export type { InstallIdentity, RenderedHost } from './controllers/baremetalhost/ports.js';
export { makeHostRender } from './controllers/baremetalhost/render-host.js';
export { ProcessRenderer, formatProblem, maskSecrets, validateTemplateChain, type SecretValues } from './render/index.js';
