// jest's globalTeardown: with --runInBand every test ran in this process, so anything a test left open (a child
// process, a socket, a server, a timer) keeps jest from exiting. jest only says it "did not exit"; this waits a little
// for things that are closing anyway, then names what is still open, so the log of a hung run says which test to fix.
// It reports; it never closes anything (the run must still fail, and scripts/test.sh makes it fail).
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const GRACE_MS = Number(process.env.ANVIL_OPEN_HANDLES_GRACE_MS ?? 15_000);

/** Handles jest itself holds at this point: the standard streams. */
function isJestOwn(handle) {
  if (handle === process.stdin || handle === process.stdout || handle === process.stderr) return true;
  return handle?.constructor?.name === 'WriteStream' || (handle?.constructor?.name === 'ReadStream' && handle.fd === 0);
}

function describeHandle(handle) {
  const kind = handle?.constructor?.name ?? typeof handle;
  try {
    if (kind === 'ChildProcess') return `child process pid ${handle.pid}: ${(handle.spawnargs ?? []).join(' ').slice(0, 300)}`;
    if (kind === 'Server' && typeof handle.address === 'function') return `server listening on ${JSON.stringify(handle.address())}`;
    if (kind === 'Socket' && handle.remotePort !== undefined) {
      return `TCP socket ${handle.localAddress}:${handle.localPort} -> ${handle.remoteAddress}:${handle.remotePort}`;
    }
    if (kind === 'Socket' && typeof handle.address === 'function' && handle.type) return `UDP socket ${JSON.stringify(handle.address())}`;
    if (kind === 'Socket') return `socket (pipe or unconnected) fd ${handle._handle?.fd ?? '?'}`;
  } catch (error) {
    return `${kind} (could not describe it: ${error})`;
  }
  return kind;
}

function childProcesses() {
  const children = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      // esbuild's service (the dashboard's and the CLI's builds): unref'd when idle, it ends when its stdin (jest) does.
      if (/\/esbuild --service=\S+ --ping$/.test(cmd)) continue;
      children.push(`pid ${entry}: ${cmd.slice(0, 300)}`);
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/** Timers still holding the event loop, with the stack that created them (test/harness/open-handles-setup.mjs). */
function timers() {
  const origins = globalThis.__anvilTimerOrigins;
  if (!origins) return [];
  const live = [];
  for (const { resource, origin } of origins.values()) {
    if (typeof resource.hasRef === 'function' && !resource.hasRef()) continue;
    if (resource._destroyed) continue;
    if (String(origin.stack ?? '').includes('open-handles.mjs')) continue; // this file's own wait
    const frames = String(origin.stack ?? '')
      .split('\n')
      .slice(1)
      .filter((line) => !/node:|node_modules|open-handles-setup|\(<anonymous>\)/.test(line))
      .slice(0, 6)
      .map((line) => line.trim());
    live.push(`timer (${resource._idleTimeout} ms${resource._repeat ? ', repeating' : ''}) created ${frames.join(' < ')}`);
  }
  return live;
}

function openThings() {
  const handles = process._getActiveHandles().filter((h) => !isJestOwn(h));
  return { handles, children: childProcesses(), timers: timers() };
}

export default async function reportOpenHandles() {
  const deadline = Date.now() + GRACE_MS;
  let open = openThings();
  const anything = () => open.handles.length > 0 || open.children.length > 0 || open.timers.length > 0;
  while (anything() && Date.now() < deadline) {
    await sleep(250);
    open = openThings();
  }
  if (!anything()) return;
  const lines = [
    `open after the last test (${GRACE_MS / 1000} s grace); jest will not exit while they are:`,
    ...open.handles.map((h) => `  handle: ${describeHandle(h)}`),
    ...open.children.map((c) => `  child process: ${c}`),
    ...open.timers.map((t) => `  ${t}`),
    `  resources: ${JSON.stringify(process.getActiveResourcesInfo())}`,
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
}
