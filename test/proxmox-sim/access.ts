// Access control: API tokens (PVEAPIToken authentication) and privileges. Every privilege is granted unless a test
// takes it away from a token on an ACL path (and everything below it); the schema's permission `check` expressions
// are evaluated as PVE::RPCEnvironment::check_api2_permissions does. The simulator has no ticket (cookie) login.
import { randomUUID } from 'node:crypto';
import { forbidden } from './errors.js';
import type { PveMethodInfo } from './schema.js';

export interface SimToken {
  /** USER@REALM!TOKENID */
  id: string;
  secret: string;
}

interface Denial {
  path: string;
  privilege: string;
}

const DEFAULT_FAILURE = 'Permission check failed';

export class Access {
  private readonly tokens = new Map<string, { secret: string; deny: Denial[] }>();

  constructor(tokens: SimToken[] = [{ id: 'anvil@pve!builder', secret: randomUUID() }]) {
    for (const t of tokens) this.tokens.set(t.id, { secret: t.secret, deny: [] });
  }

  /** The Authorization value's token part, USER@REALM!TOKENID=SECRET. */
  token(id = [...this.tokens.keys()][0]!): string {
    const t = this.tokens.get(id);
    if (!t) throw new Error(`no token ${id}`);
    return `${id}=${t.secret}`;
  }

  addToken(id: string, secret: string = randomUUID()): string {
    this.tokens.set(id, { secret, deny: [] });
    return `${id}=${secret}`;
  }

  deny(tokenId: string, path: string, privilege: string): void {
    this.tokens.get(tokenId)!.deny.push({ path, privilege });
  }

  allow(tokenId: string, path: string, privilege?: string): void {
    const t = this.tokens.get(tokenId)!;
    t.deny = t.deny.filter((d) => !(d.path === path && (privilege === undefined || d.privilege === privilege)));
  }

  /** The token id of a valid `PVEAPIToken=USER@REALM!TOKENID=SECRET` header, undefined otherwise. */
  authenticate(header: string | undefined): string | undefined {
    const m = /^PVEAPIToken[= ]\s*([^\s!]+@[^\s!]+![A-Za-z][A-Za-z0-9._-]*)=(\S+)$/.exec(header ?? '');
    if (!m) return undefined;
    const t = this.tokens.get(m[1]!);
    return t && t.secret === m[2] ? m[1] : undefined;
  }

  hasPriv(tokenId: string, path: string, privilege: string): boolean {
    const t = this.tokens.get(tokenId);
    if (!t) return false;
    return !t.deny.some(
      (d) => (d.privilege === privilege || d.privilege === '*') && (d.path === '/' || path === d.path || path.startsWith(`${d.path}/`)),
    );
  }

  /** A handler's own check: 403 `Permission check failed (<path>, <privilege>)` without the privilege. */
  requirePriv(tokenId: string, path: string, privilege: string): void {
    if (!this.hasPriv(tokenId, path, privilege)) throw forbidden(`Permission check failed (${path}, ${privilege})`);
  }

  /** The endpoint's permission check: undefined when allowed, otherwise the 403 message. */
  checkPermission(info: PveMethodInfo, params: Record<string, string>, tokenId: string): string | undefined {
    const check = info.permissions?.check;
    if (!check) return undefined;
    const result = this.evalCheck(check, params, tokenId);
    if (result === true) return undefined;
    return check[0] === 'perm' && typeof result === 'string' ? result : DEFAULT_FAILURE;
  }

  private evalCheck(expr: unknown[], params: Record<string, string>, tokenId: string): true | string {
    const [op, ...rest] = expr as [string, ...unknown[]];
    if (op === 'and') {
      for (const sub of rest) {
        const r = this.evalCheck(sub as unknown[], params, tokenId);
        if (r !== true) return r;
      }
      return true;
    }
    if (op === 'or') {
      let last: string = DEFAULT_FAILURE;
      for (const sub of rest) {
        const r = this.evalCheck(sub as unknown[], params, tokenId);
        if (r === true) return true;
        last = r;
      }
      return last;
    }
    if (op === 'perm') return this.evalPerm(rest, params, tokenId);
    return true; // userid-param, userid-group and the like do not occur in the endpoints simulated here
  }

  private evalPerm(args: unknown[], params: Record<string, string>, tokenId: string): true | string {
    const [rawPath, privs, ...opts] = args as [string, string[], ...unknown[]];
    const requireParam = opts.indexOf('require_param');
    if (requireParam >= 0 && params[String(opts[requireParam + 1])] === undefined) return DEFAULT_FAILURE;
    const path = rawPath.replace(/\{(\w+)\}/g, (_, n: string) => params[n] ?? '');
    if (opts.includes('any')) {
      return privs.some((p) => this.hasPriv(tokenId, path, p)) ? true : `Permission check failed (${path}, ${privs.join('|')})`;
    }
    const missing = privs.find((p) => !this.hasPriv(tokenId, path, p));
    return missing ? `Permission check failed (${path}, ${missing})` : true;
  }
}
