// What the CLI needs to talk to an API server, however it was found (kubeconfig.ts): the server, its trust, and the
// credentials.

export interface ExecCredentialConfig {
  apiVersion?: string;
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  installHint?: string;
  provideClusterInfo?: boolean;
}

/** Everything needed to talk to the API server, with secrets resolved lazily where they can rotate. */
export interface ClusterAccess {
  server: string;
  ca?: Buffer;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  clientCert?: Buffer;
  clientKey?: Buffer;
  /** A bearer token: fixed, read from a file at each request (it may rotate), or from an exec plugin. */
  token?: () => string | undefined;
  basicAuth?: { username: string; password: string };
  impersonate?: { user?: string; groups?: string[] };
  /** The namespace to use without -n: the context's, the service account's, else "default". */
  namespace: string;
  /** For messages: where this came from, e.g. `context "prod" of /home/me/.kube/config`. */
  source: string;
}

export interface LoadOptions {
  /** --kubeconfig */
  kubeconfig?: string;
  /** --context */
  context?: string;
  env?: NodeJS.ProcessEnv;
  home?: string;
}
