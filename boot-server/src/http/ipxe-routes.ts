// The iPXE routes: the entry script every machine chains through first, then the machine's own script by MAC (its
// install or local-boot script, or the answer to an unknown machine), each recorded as a boot request.
import type { IRouter, Request } from 'express';
import { DISCOVERY_FACTS } from '@anvil/core/api';
import { normalizeMac } from '@anvil/core/bootconfig';
import { bootRequest } from './boot-request.js';
import type { BootRouteContext } from './context.js';
import { entryScript, unknownMachineScript } from './ipxe-scripts.js';
import { MAC_PATTERN } from './webhook.js';

/** As status.discovery's fields allow. */
const MAX_FACT_LENGTH = 128;

/** What iPXE tells about the machine in the query of its script's URL (see entryScript). */
function bootFacts(req: Request): Record<string, string> {
  const facts: Record<string, string> = {};
  for (const k of DISCOVERY_FACTS) {
    const v = req.query[k];
    // printable ASCII only (SMBIOS strings are), and bounded: anyone can send anything here
    const value = typeof v === 'string' ? v.trim() : '';
    if (value && value.length <= MAX_FACT_LENGTH && /^[\x20-\x7e]+$/.test(value)) facts[k] = value;
  }
  return facts;
}

export function mountIpxeRoutes(app: IRouter, { deps, limit }: BootRouteContext): void {
  app.get('/boot.ipxe', (req, res) => {
    if (limit.overLimit(req, res)) return;
    res.type('text/plain').send(entryScript(deps.publicURL));
  });

  app.get('/ipxe/:mac', async (req, res, next) => {
    try {
      const mac = req.params.mac;
      if (limit.overLimit(req, res)) return;
      if (!MAC_PATTERN.test(mac)) return void res.status(400).type('text/plain').send('malformed MAC address\n');
      const facts = bootFacts(req);
      const config = deps.index.byMac(mac);
      if (!config) {
        await deps.spool.append([bootRequest(req, mac, 'Rejected', undefined, facts)]);
        return void res.type('text/plain').send(unknownMachineScript(normalizeMac(mac), deps.unknownMachine ?? 'exit'));
      }
      const served = config.mode === 'install' ? 'InstallScript' : 'LocalBootScript';
      await deps.spool.append([bootRequest(req, mac, served, config, facts)]);
      // The machine booted again: the installer that reported the last verdict is gone, its grace period with it.
      if (config.closedInstall) deps.index.endGrace(config.closedInstall.installationId);
      res.type('text/plain').send(config.ipxe);
    } catch (err) {
      next(err);
    }
  });
}
