// One API request, in pve-http-server's order: authentication (401, no body), endpoint lookup (501), injected
// faults, the node, the schema's permission check (403), parameter verification (400 with `errors`), then the
// resource's handler (500 with PVE's message for its `die`s). Every request is recorded with its endpoint and the
// verification of its parameters, whatever the answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Access } from './access.js';
import { forbidden, paramError, SimError } from './errors.js';
import type { HttpFaults } from './faults.js';
import { apiPath, readParams, sendBare, sendData, sendError } from './http.js';
import { checkNode } from './nodes.js';
import { verify, type Answer, type ResolvedRoute, type Router } from './router.js';
import type { HttpMethod } from './schema.js';
import type { ParamErrors } from './validate.js';

export interface SimRequestRecord {
  seq: number;
  method: string;
  /** Decoded path below /api2/json. */
  path: string;
  /** The schema path template, when the path matched one. */
  template?: string;
  params: Record<string, string>;
  tokenId?: string;
  status: number;
  /** Whether the endpoint is in the reference schema (false for DELETE .../qemu/{vmid} and tasks/{upid}/log). */
  schemaChecked: boolean;
  /** Parameter errors the verification found (empty when valid). */
  paramErrors: ParamErrors;
  /** Matched an endpoint and passed parameter verification. */
  valid: boolean;
  /** Set when the answer was an injected fault. */
  injected?: string;
}

export interface Pipeline {
  node: string;
  router: Router;
  access: Access;
  faults: HttpFaults;
  /** Where each request's record is appended. */
  requests: SimRequestRecord[];
  nextSeq: () => number;
}

export async function handleApiRequest(pipe: Pipeline, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase() as HttpMethod;
  const path = apiPath(url.pathname);
  const params = await readParams(req, url);
  const record: SimRequestRecord = { seq: pipe.nextSeq(), method, path, params: { ...params }, status: 0, schemaChecked: false, paramErrors: {}, valid: false };
  pipe.requests.push(record);
  const answer = (status: number, send: () => void) => {
    record.status = status;
    send();
  };

  const route = pipe.router.resolve(method, path);
  const allParams = { ...params, ...(route?.pathParams ?? {}) };
  if (route) {
    record.template = route.template;
    record.schemaChecked = route.schemaChecked;
    record.paramErrors = verify(route, allParams);
    record.valid = Object.keys(record.paramErrors).length === 0;
  }

  const tokenId = pipe.access.authenticate(req.headers.authorization);
  if (!tokenId) return answer(401, () => sendBare(res, 401, req.headers.authorization ? 'authentication failure' : 'No ticket'));
  record.tokenId = tokenId;

  if (!route) return answer(501, () => sendError(res, 501, `Method '${method} ${path}' not implemented`));

  const fault = pipe.faults.take(method, path, route.template);
  if (fault) {
    record.injected = `${fault.status} ${fault.message}`;
    return answer(fault.status, () => (fault.status === 596 ? sendBare(res, 596, fault.message) : sendError(res, fault.status, fault.message)));
  }

  try {
    const result = await authorizeAndDispatch(pipe, route, method, allParams, record.paramErrors, tokenId);
    answer(200, () => sendData(res, result.data, result.total));
  } catch (err) {
    if (!(err instanceof SimError)) throw err;
    answer(err.status, () => sendError(res, err.status, err.message, err.errors));
  }
}

/**
 * For an authenticated request to a known endpoint: the node, the permission check, the parameter errors found by
 * verify(), then the handler. Throws a SimError carrying PVE's answer.
 */
export async function authorizeAndDispatch(
  pipe: Pick<Pipeline, 'node' | 'router' | 'access'>,
  route: ResolvedRoute,
  method: HttpMethod,
  params: Record<string, string>,
  paramErrors: ParamErrors,
  tokenId: string,
): Promise<Answer> {
  checkNode(pipe, params);
  // PVE checks the permissions before it verifies the parameters.
  const denied = pipe.access.checkPermission(route.info, params, tokenId);
  if (denied) throw forbidden(denied);
  if (Object.keys(paramErrors).length > 0) throw paramError(paramErrors);
  return pipe.router.dispatch(route, method, params, tokenId);
}
