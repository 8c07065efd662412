// The state of the render in progress, shared by the sandbox's runtime hooks (sandbox-lookups.ts,
// sandbox-nunjucks.ts) and filters (sandbox-environment.ts): a worker renders one job at a time, so one module-level
// state is enough. Also how the hooks name what was undefined or null in their error messages.
//
// Loaded by the render worker process from source in development: erasable TypeScript only.

export interface RenderState {
  /** The name of the lookup that last gave undefined, since the current output expression started. */
  lastMiss?: string;
  /** The name of the lookup that last gave null. */
  lastNull?: string;
  /** Names of looked-up objects, to name `host.rack` when `rack` is missing from host. */
  names: WeakMap<object, string>;
  /** Characters output so far (all buffers) and the limit. */
  work: number;
  maxWork: number;
  maxOutputChars: number;
  maxRangeLength: number;
  /** Set when the output limit stopped the render. */
  limitExceeded?: string;
  /** password_hash: the salt of each secret value, and the hashes computed so far (by value and arguments). */
  salts: Map<string, string>;
  hashes: Map<string, string>;
}

let state: RenderState | undefined;

export function beginRenderState(next: RenderState): RenderState {
  state = next;
  return next;
}

export function endRenderState(): void {
  state = undefined;
}

/** The render in progress, if any (lookups also run outside a render, e.g. when nunjucks compiles). */
export function activeState(): RenderState | undefined {
  return state;
}

export function current(): RenderState {
  if (!state) throw new Error('no render in progress');
  return state;
}

export function named<T>(value: T, name: string): T {
  if (state) {
    if (typeof value === 'object' && value !== null) state.names.set(value, name);
    else if (value === null) state.lastNull = name;
  }
  return value;
}

export function missing(name: string): undefined {
  if (state) state.lastMiss = name;
  return undefined;
}

export function nameOf(obj: object): string {
  return state?.names.get(obj) ?? '(value)';
}

export function undefinedMessage(): string {
  const name = state?.lastMiss;
  return name ? `undefined variable "${name}"` : 'the value is undefined';
}

export function nullMessage(): string {
  const name = state?.lastNull;
  return name ? `"${name}" is null` : 'the value is null';
}

export class LimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LimitError';
  }
}
