// The tasks resource: a task's status and its log. Reading another user's task needs Sys.Audit on the node.
import type { SimContext } from './context.js';
import { fail500 } from './errors.js';
import type { Route } from './router.js';
import type { SimTask } from './task-runner.js';

export function taskRoutes(ctx: SimContext): Route[] {
  return [
    { method: 'GET', template: '/nodes/{node}/tasks/{upid}/status', handle: (p, tokenId) => ({ data: taskStatus(findTask(ctx, p.upid!, tokenId)) }) },
    {
      method: 'GET',
      template: '/nodes/{node}/tasks/{upid}/log',
      handle: (p, tokenId) => taskLog(findTask(ctx, p.upid!, tokenId), Number(p.start ?? 0), Number(p.limit ?? 50)),
      unchecked: {
        regex: /^\/nodes\/([^/]+)\/tasks\/([^/]+)\/log$/,
        info: {
          name: 'read_task_log',
          method: 'GET',
          permissions: { user: 'all' },
          parameters: {
            additionalProperties: 0,
            properties: {
              node: { type: 'string', format: 'pve-node' },
              upid: { type: 'string' },
              start: { type: 'integer', minimum: 0, optional: 1, default: 0 },
              limit: { type: 'integer', minimum: 0, optional: 1, default: 50 },
              download: { type: 'boolean', optional: 1 },
            },
          },
        },
      },
    },
  ];
}

function findTask(ctx: SimContext, upid: string, tokenId: string): SimTask {
  const task = ctx.tasks.tasks.get(upid);
  if (!task) throw fail500(`no such task`);
  if (task.user !== tokenId) ctx.access.requirePriv(tokenId, `/nodes/${ctx.node}`, 'Sys.Audit');
  return task;
}

function taskStatus(t: SimTask): unknown {
  return {
    upid: t.upid,
    node: t.node,
    pid: t.pid,
    pstart: t.pstart,
    starttime: t.starttime,
    type: t.type,
    id: t.id,
    user: t.user,
    status: t.status,
    ...(t.status === 'stopped' ? { exitstatus: t.exitstatus } : {}),
  };
}

function taskLog(t: SimTask, start: number, limit: number): { data: unknown; total: number } {
  const lines = t.log.length ? t.log : ['no content'];
  return { data: lines.slice(start, start + limit).map((text, i) => ({ n: start + i + 1, t: text })), total: lines.length };
}
