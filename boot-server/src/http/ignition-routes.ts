// The Ignition config of a host (installer: ignition), at the URL its kernel command line names
// (ignition.config.url=), served only with its current install token, exactly as the NoCloud seed is. Requests
// refused are rate-limited and logged (bounded, token redacted).
import type { IRouter } from 'express';
import { IGNITION_ROUTE, macDashed, tokenMatches } from '@anvil/core/bootconfig';
import { bootRequest } from './boot-request.js';
import { notFound, type BootRouteContext } from './context.js';
import { redact } from './redact.js';
import { MAC_PATTERN } from './webhook.js';

export function mountIgnitionRoutes(app: IRouter, { deps, limit, logBad }: BootRouteContext): void {
  app.get(IGNITION_ROUTE, async (req, res, next) => {
    try {
      const { mac, token } = req.params as Record<'mac' | 'token', string>;
      const config = MAC_PATTERN.test(mac) ? deps.index.byMac(mac) : undefined;
      const install = config?.mode === 'install' ? config.install : undefined;
      if (!install || !tokenMatches(token, install.tokenSha256) || macDashed(config!.mac) !== macDashed(mac)) {
        if (limit.overLimit(req, res)) return;
        logBad('ignition request refused', { ip: req.socket.remoteAddress, path: redact(req.path) });
        return notFound(res);
      }
      // a host whose template is not for Ignition has no config here
      if (install.ignition === undefined) return notFound(res);
      await deps.spool.append([bootRequest(req.socket.remoteAddress ?? '', req.path, mac, 'IgnitionConfig', config)]);
      res.type('application/json').send(install.ignition);
    } catch (err) {
      next(err);
    }
  });
}
