// Routing: a request's path and method to its endpoint (the reference schema's, or one of the few endpoints a
// resource declares itself because the reference subset lacks them) and to the resource handler that serves it.
// Every endpoint's parameters are verified by the one function, verify(), against the endpoint's PVE schema.
import { SimError } from './errors.js';
import type { HttpMethod, PveMethodInfo, PveSchema } from './schema.js';
import { validateParameters, type ParamErrors } from './validate.js';

export interface Answer {
  data: unknown;
  /** PVE's `total` beside `data` (task logs). */
  total?: number;
}

/** Request parameters with the path's parameters, and the token that made the request. */
export type Handler = (params: Record<string, string>, tokenId: string) => Answer | Promise<Answer>;

/**
 * An endpoint anvil uses that the reference subset does not contain: implemented with PVE's real parameters, but
 * NOT schema-checked against the reference (SimRequestRecord.schemaChecked is false for it).
 */
export interface UncheckedEndpoint {
  /** Matches the decoded path; its groups are the template's {parameters} in order. */
  regex: RegExp;
  info: PveMethodInfo;
}

export interface Route {
  method: HttpMethod;
  template: string;
  handle: Handler;
  unchecked?: UncheckedEndpoint;
}

export interface ResolvedRoute {
  template: string;
  pathParams: Record<string, string>;
  info: PveMethodInfo;
  schemaChecked: boolean;
  /** Undefined for a schema endpoint no resource serves (501 after the checks, as today). */
  handle?: Handler;
}

const keyOf = (method: string, template: string) => `${method} ${template}`;
const templateNames = (template: string) => [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);

export class Router {
  private readonly handlers = new Map<string, Handler>();
  private readonly unchecked: Route[];

  constructor(private readonly schema: PveSchema, routes: Route[]) {
    for (const r of routes) {
      if (this.handlers.has(keyOf(r.method, r.template))) throw new Error(`two handlers for ${keyOf(r.method, r.template)}`);
      this.handlers.set(keyOf(r.method, r.template), r.handle);
    }
    this.unchecked = routes.filter((r) => r.unchecked);
  }

  resolve(method: HttpMethod, path: string): ResolvedRoute | undefined {
    for (const r of this.unchecked) {
      const m = r.method === method ? r.unchecked!.regex.exec(path) : null;
      if (!m) continue;
      const pathParams: Record<string, string> = {};
      templateNames(r.template).forEach((n, i) => (pathParams[n] = m[i + 1]!));
      return { template: r.template, pathParams, info: r.unchecked!.info, schemaChecked: false, handle: r.handle };
    }
    const match = this.schema.match(method, path);
    if (!match?.info) return undefined;
    const handle = this.handlers.get(keyOf(method, match.template));
    return { template: match.template, pathParams: match.pathParams, info: match.info, schemaChecked: true, ...(handle ? { handle } : {}) };
  }

  async dispatch(route: ResolvedRoute, method: HttpMethod, params: Record<string, string>, tokenId: string): Promise<Answer> {
    if (!route.handle) throw new SimError(501, `Method '${method} ${route.template}' not implemented in the simulator\n`);
    return route.handle(params, tokenId);
  }
}

/** The one parameter verification every endpoint goes through (PVE::JSONSchema against the endpoint's schema). */
export function verify(route: ResolvedRoute, params: Record<string, string>): ParamErrors {
  return validateParameters(route.info.parameters, params);
}
