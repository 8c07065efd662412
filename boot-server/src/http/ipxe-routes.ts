// The iPXE routes: the entry script every machine chains through first, then the machine's own script by MAC (its
// install or local-boot script, or the answer to an unknown machine), each recorded as a boot request. The answers are
// computed here once; express (below) and the node:http fast path (script-fast-path.ts) only parse and send.
import type { IRouter } from 'express';
import { DISCOVERY_FACTS } from '@anvil/core/api';
import { normalizeMac } from '@anvil/core/bootconfig';
import { bootRequest } from './boot-request.js';
import type { BootRouteContext } from './context.js';
import { entryScript, unknownMachineScript } from './ipxe-scripts.js';
import { sendAnswer } from './webhook-fast-path.js';
import { MAC_PATTERN, textAnswer, type WebhookAnswer } from './webhook.js';

/** As status.discovery's fields allow. */
const MAX_FACT_LENGTH = 128;

export const ENTRY_ROUTE = '/boot.ipxe';
export const MACHINE_SCRIPT_ROUTE = '/ipxe/:mac';

/** A query as express's "simple" parser (node:querystring) gives it: repeated keys are arrays. */
export type ParsedQuery = Record<string, unknown>;

/** What iPXE tells about the machine in the query of its script's URL (see entryScript). */
function bootFacts(query: ParsedQuery): Record<string, string> {
  const facts: Record<string, string> = {};
  for (const k of DISCOVERY_FACTS) {
    const v = query[k];
    // printable ASCII only (SMBIOS strings are), and bounded: anyone can send anything here
    const value = typeof v === 'string' ? v.trim() : '';
    if (value && value.length <= MAX_FACT_LENGTH && /^[\x20-\x7e]+$/.test(value)) facts[k] = value;
  }
  return facts;
}

/** The answer to GET /boot.ipxe from `ip` (counted against the rate limit of requests without a token). */
export function entryAnswer({ deps, limit }: BootRouteContext, ip: string, path: string): WebhookAnswer {
  return limit.answer(ip, path) ?? textAnswer(200, entryScript(deps.publicURL));
}

/** The answer to GET /ipxe/<mac>, once its boot request is recorded. `path` is without the query. */
export async function machineScriptAnswer({ deps, limit }: BootRouteContext, mac: string, query: ParsedQuery, ip: string, path: string): Promise<WebhookAnswer> {
  const limited = limit.answer(ip, path);
  if (limited) return limited;
  if (!MAC_PATTERN.test(mac)) return textAnswer(400, 'malformed MAC address\n');
  const facts = bootFacts(query);
  const config = deps.index.byMac(mac);
  if (!config) {
    await deps.spool.append([bootRequest(ip, path, mac, 'Rejected', undefined, facts)]);
    return textAnswer(200, unknownMachineScript(normalizeMac(mac), deps.unknownMachine ?? 'exit'));
  }
  const served = config.mode === 'install' ? 'InstallScript' : 'LocalBootScript';
  await deps.spool.append([bootRequest(ip, path, mac, served, config, facts)]);
  // The machine booted again: the installer that reported the last verdict is gone, its grace period with it.
  if (config.closedInstall) deps.index.endGrace(config.closedInstall.installationId);
  return textAnswer(200, config.ipxe);
}

export function mountIpxeRoutes(app: IRouter, ctx: BootRouteContext): void {
  app.get(ENTRY_ROUTE, (req, res) => sendAnswer(res, entryAnswer(ctx, req.socket.remoteAddress ?? '', req.path)));

  app.get(MACHINE_SCRIPT_ROUTE, async (req, res, next) => {
    try {
      sendAnswer(res, await machineScriptAnswer(ctx, req.params.mac, req.query, req.socket.remoteAddress ?? '', req.path));
    } catch (err) {
      next(err);
    }
  });
}
