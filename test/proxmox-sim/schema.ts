// The PVE API schema the simulator is driven by: the subsets of PVE 8.4 and 9.1 extracted from pve-docs'
// apidata.js (AGPL reference data in ../shared/reference/proxmox, read at run time, never copied into anvil).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type PveMajor = 8 | 9;
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const PVE_REFERENCE_DIR = join(ROOT, '..', 'shared', 'reference', 'proxmox');

export function schemaFile(major: PveMajor): string {
  return join(PVE_REFERENCE_DIR, `pve-api-schema-subset.pve${major}.json`);
}

/** True when ../shared/reference/proxmox holds both schema files (tests skip otherwise). */
export function pveReferenceAvailable(): boolean {
  return existsSync(schemaFile(8)) && existsSync(schemaFile(9));
}

/** One property of a PVE parameter schema (PVE's JSON-schema dialect: optional, typetext, format objects...). */
export interface PveProperty {
  type?: string;
  optional?: number | boolean;
  description?: string;
  format?: string | Record<string, PveProperty>;
  pattern?: string;
  enum?: Array<string | number> | null;
  minimum?: number | string;
  maximum?: number | string;
  maxLength?: number;
  minLength?: number;
  requires?: string;
  default_key?: number;
  alias?: string;
  keyAlias?: string;
  [other: string]: unknown;
}

export interface PveParameters {
  additionalProperties?: number | boolean;
  properties?: Record<string, PveProperty>;
}

export interface PveMethodInfo {
  name: string;
  method: HttpMethod;
  parameters: PveParameters;
  permissions?: { check?: unknown[]; user?: string; description?: string };
  returns?: unknown;
  protected?: number;
}

interface SchemaFileShape {
  paths: Record<string, { path: string; info: Partial<Record<HttpMethod, PveMethodInfo>> }>;
}

export interface RouteMatch {
  template: string;
  pathParams: Record<string, string>;
  info?: PveMethodInfo;
  /** The path exists, but not for this method. */
  methodExists: boolean;
}

export class PveSchema {
  private readonly routes: Array<{ template: string; regex: RegExp; names: string[]; info: Partial<Record<HttpMethod, PveMethodInfo>> }>;

  constructor(readonly major: PveMajor, file: SchemaFileShape) {
    this.routes = Object.values(file.paths).map((node) => {
      const names: string[] = [];
      const regex = new RegExp(
        '^' +
          node.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, n: string) => {
            names.push(n);
            return '([^/]+)';
          }) +
          '$',
      );
      return { template: node.path, regex, names, info: node.info };
    });
  }

  static load(major: PveMajor): PveSchema {
    return new PveSchema(major, JSON.parse(readFileSync(schemaFile(major), 'utf8')) as SchemaFileShape);
  }

  /** The endpoint for a decoded path (without /api2/json). */
  match(method: HttpMethod, path: string): RouteMatch | undefined {
    for (const r of this.routes) {
      const m = r.regex.exec(path);
      if (!m) continue;
      const pathParams: Record<string, string> = {};
      r.names.forEach((n, i) => (pathParams[n] = m[i + 1]!));
      const info = r.info[method];
      return { template: r.template, pathParams, methodExists: Boolean(info), ...(info ? { info } : {}) };
    }
    return undefined;
  }

  templates(): string[] {
    return this.routes.map((r) => r.template);
  }
}
