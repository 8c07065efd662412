// The NoCloud seed: a host's user-data, meta-data, vendor-data and network-config, served only with its current
// install token (a finished attempt's token is refused). Requests refused are rate-limited and logged (bounded).
import type { IRouter } from 'express';
import { macDashed, tokenMatches, usesNoCloud, type BootConfig } from '@anvil/core/bootconfig';
import { bootRequest } from './boot-request.js';
import { notFound, type BootRouteContext } from './context.js';
import { NOCLOUD_FILES, type NoCloudFile } from './nocloud-files.js';
import { redact } from './redact.js';
import { MAC_PATTERN } from './webhook.js';

type Install = NonNullable<BootConfig['install']>;

function seedFile(install: Install, kind: NoCloudFile): string | undefined {
  return kind === 'UserData' ? install.userData : kind === 'MetaData' ? install.metaData : kind === 'VendorData' ? (install.vendorData ?? '') : install.networkConfig;
}

export function mountNoCloudRoutes(app: IRouter, { deps, limit, logBad }: BootRouteContext): void {
  app.get('/nocloud/:mac/:token/:file', async (req, res, next) => {
    try {
      const { mac, token, file } = req.params;
      const kind = NOCLOUD_FILES[file as keyof typeof NOCLOUD_FILES];
      const config = MAC_PATTERN.test(mac) ? deps.index.byMac(mac) : undefined;
      const install = config?.mode === 'install' ? config.install : undefined;
      if (!kind || !install || !tokenMatches(token, install.tokenSha256) || macDashed(config!.mac) !== macDashed(mac)) {
        if (limit.overLimit(req, res)) return;
        logBad('nocloud request refused', { ip: req.socket.remoteAddress, path: redact(req.path) });
        return notFound(res);
      }
      // a host of another installer kind (ignition) has no seed
      const body = usesNoCloud(install.installer) ? seedFile(install, kind) : undefined;
      if (body === undefined) return notFound(res);
      await deps.spool.append([bootRequest(req, mac, kind, config)]);
      res.type('text/plain').send(body);
    } catch (err) {
      next(err);
    }
  });
}
