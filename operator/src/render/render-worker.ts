// Entry point of a render worker process (started by renderer.ts): renders jobs one at a time with the sandbox and
// sends the results back over the IPC channel. The process has its own heap limit and an empty environment; the
// operator kills it when a render takes too long, and it exits when the operator goes away.
//
// Runs from source in development (Node strips the types): erasable TypeScript only.
import { runRenderJob, type RenderJob, type RenderJobResult } from './sandbox.js';

export interface RenderRequest {
  id: number;
  job: RenderJob;
}

export type RenderWorkerMessage = { type: 'ready' } | { type: 'result'; id: number; result: RenderJobResult };

const send = process.send?.bind(process);
if (!send) throw new Error('render-worker runs as a child process with an IPC channel');

process.on('message', (request: RenderRequest) => {
  let result: RenderJobResult;
  try {
    result = runRenderJob(request.job);
  } catch (err) {
    const field = (Object.keys(request.job.entries)[0] ?? 'userData') as 'userData';
    result = { ok: false, problems: [{ kind: 'render', field, message: `rendering failed: ${err instanceof Error ? err.message : String(err)}` }] };
  }
  send({ type: 'result', id: request.id, result } satisfies RenderWorkerMessage);
});

// the operator is gone (or closed the renderer): nothing left to do
process.on('disconnect', () => process.exit(0));

send({ type: 'ready' } satisfies RenderWorkerMessage);
