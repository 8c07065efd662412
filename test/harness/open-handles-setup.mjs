// jest's globalSetup: remembers where each timer was created, so test/harness/open-handles.mjs (the globalTeardown) can
// say which code left one running. Only timers: sockets, servers and child processes name themselves (addresses,
// command lines). With --runInBand the tests run in this process, so the hook sees their timers.
import { createHook } from 'node:async_hooks';

export default function trackTimerOrigins() {
  if (globalThis.__anvilTimerOrigins) return; // one hook, however many projects run
  const created = new Map();
  globalThis.__anvilTimerOrigins = created;
  createHook({
    init(asyncId, type, _triggerId, resource) {
      if (type !== 'Timeout') return;
      const origin = {};
      Error.captureStackTrace(origin); // formatted only if the teardown reads it
      created.set(asyncId, { resource, origin });
    },
    destroy(asyncId) {
      created.delete(asyncId);
    },
  }).enable();
}
