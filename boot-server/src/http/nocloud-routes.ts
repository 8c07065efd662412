// The NoCloud seed: a host's user-data, meta-data, vendor-data and network-config, served only with its current
// install token (a finished attempt's token is refused). Requests refused are rate-limited and logged (bounded). The
// answer is computed here once; express (below) and the node:http fast path (script-fast-path.ts) only parse and send.
import type { IRouter } from 'express';
import { macDashed, tokenMatches, usesNoCloud, type BootConfig } from '@anvil/core/bootconfig';
import { bootRequest } from './boot-request.js';
import type { BootRouteContext } from './context.js';
import { NOCLOUD_FILES, type NoCloudFile } from './nocloud-files.js';
import { redact } from './redact.js';
import { sendAnswer } from './webhook-fast-path.js';
import { MAC_PATTERN, NOT_FOUND, textAnswer, type WebhookAnswer } from './webhook.js';

type Install = NonNullable<BootConfig['install']>;

export const NOCLOUD_ROUTE = '/nocloud/:mac/:token/:file';

function seedFile(install: Install, kind: NoCloudFile): string | undefined {
  return kind === 'UserData' ? install.userData : kind === 'MetaData' ? install.metaData : kind === 'VendorData' ? (install.vendorData ?? '') : install.networkConfig;
}

/** The answer to GET /nocloud/<mac>/<token>/<file>, once its boot request is recorded. */
export async function noCloudAnswer({ deps, limit, logBad }: BootRouteContext, mac: string, token: string, file: string, ip: string, path: string): Promise<WebhookAnswer> {
  const kind = Object.hasOwn(NOCLOUD_FILES, file) ? NOCLOUD_FILES[file as keyof typeof NOCLOUD_FILES] : undefined;
  const config = MAC_PATTERN.test(mac) ? deps.index.byMac(mac) : undefined;
  const install = config?.mode === 'install' ? config.install : undefined;
  if (!kind || !install || !tokenMatches(token, install.tokenSha256) || macDashed(config!.mac) !== macDashed(mac)) {
    const limited = limit.answer(ip, path);
    if (limited) return limited;
    logBad('nocloud request refused', { ip, path: redact(path) });
    return NOT_FOUND;
  }
  // a host of another installer kind (ignition) has no seed
  const body = usesNoCloud(install.installer) ? seedFile(install, kind) : undefined;
  if (body === undefined) return NOT_FOUND;
  await deps.spool.append([bootRequest(ip, path, mac, kind, config)]);
  return textAnswer(200, body);
}

export function mountNoCloudRoutes(app: IRouter, ctx: BootRouteContext): void {
  app.get(NOCLOUD_ROUTE, async (req, res, next) => {
    try {
      const { mac, token, file } = req.params;
      sendAnswer(res, await noCloudAnswer(ctx, mac, token, file, req.socket.remoteAddress ?? '', req.path));
    } catch (err) {
      next(err);
    }
  });
}
