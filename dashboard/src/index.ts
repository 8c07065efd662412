// @anvil/dashboard: the web dashboard's server side (the operator serves it) and, in dist/web, its browser app.
export { dashboardRouter, type DashboardOptions } from './server/router.js';
export { serveDashboard, type DashboardServer } from './server/serve.js';
export { InformerHostSource } from './server/informer-host-source.js';
export { InformerTemplateSource } from './server/informer-template-source.js';
export { InformerBootConfigSource } from './server/informer-bootconfig-source.js';
export { KubeHostEventReader } from './server/host-events.js';
export { KubeTemplateRevisionReader } from './server/template-revisions.js';
export { KubeAuthorizer, type KubeAuthorizerOptions } from './server/kube-authorizer.js';
export { KubeHostWriter, type ActionEventSink } from './server/kube-host-writer.js';
export { AuthorizerUnavailableError, type Authorizer, type HistoryReader, type HostChange, type HostSource, type HostWriter, type BootConfigSource, type HostEventReader, type ListedResource, type TemplateSource, type UserInfo } from './server/ports.js';
export { SESSION_COOKIE } from './server/auth.js';
