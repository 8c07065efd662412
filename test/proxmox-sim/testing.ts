// For the resource modules' unit tests: a simulator's context and router without the HTTP server, and a call()
// that takes a request through the same checks as the server (node, permissions, verify(), handler).
import { Access } from './access.js';
import type { SimContext } from './context.js';
import { VERSIONS } from './nodes.js';
import { authorizeAndDispatch } from './pipeline.js';
import { Router, verify, type Answer } from './router.js';
import { allRoutes } from './routes.js';
import { PveSchema, type HttpMethod, type PveMajor } from './schema.js';
import { defaultStorages } from './state.js';
import { TaskRunner, type SimTask } from './task-runner.js';

export const TEST_TOKEN = 'anvil@pve!builder';

export interface TestSim {
  ctx: SimContext;
  router: Router;
  races: Set<number>;
  /** A request as `tokenId` (default TEST_TOKEN); rejects with the SimError the server would answer. */
  call(method: HttpMethod, path: string, params?: Record<string, string>, tokenId?: string): Promise<Answer>;
  /** Runs a request that starts a task and resolves with the task once it stopped. */
  run(method: HttpMethod, path: string, params?: Record<string, string>, tokenId?: string): Promise<SimTask>;
}

export function testSim(options: { pveMajor?: PveMajor; taskDurationMs?: number; lockTimeoutMs?: number } = {}): TestSim {
  const node = 'pve';
  const schema = PveSchema.load(options.pveMajor ?? 9);
  const tasks = new TaskRunner(node, { defaultDurationMs: options.taskDurationMs ?? 1, lockTimeoutMs: options.lockTimeoutMs ?? 30 });
  const ctx: SimContext = {
    node,
    schema,
    storages: new Map(defaultStorages().map((s) => [s.id, s])),
    vms: new Map(),
    upstream: new Map(),
    bridges: new Set(['vmbr0']),
    access: new Access([{ id: TEST_TOKEN, secret: 'secret' }]),
    tasks,
  };
  const races = new Set<number>();
  const router = new Router(schema, allRoutes(ctx, { version: () => VERSIONS[schema.major], races }));
  const call: TestSim['call'] = async (method, path, params = {}, tokenId = TEST_TOKEN) => {
    const route = router.resolve(method, path);
    if (!route) throw new Error(`no endpoint ${method} ${path}`);
    const all = { ...params, ...route.pathParams };
    return authorizeAndDispatch({ node, router, access: ctx.access }, route, method, all, verify(route, all), tokenId);
  };
  const run: TestSim['run'] = async (method, path, params, tokenId) => {
    const upid = String((await call(method, path, params, tokenId)).data);
    await tasks.idle();
    return tasks.tasks.get(upid)!;
  };
  return { ctx, router, races, call, run };
}
