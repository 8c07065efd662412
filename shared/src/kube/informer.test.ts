import { Writable } from 'node:stream';
import { setImmediate as turn } from 'node:timers/promises';
import { pino } from 'pino';
import { Informer } from './informer.js';
import { ApiError } from './errors.js';
import { maxWatchTimeoutSeconds } from './rest-client.js';
import type { KubeClient, KubeObject, ListResult, ResourceType, WatchEvent, WatchHandle, WatchOptions } from './types.js';

const Widgets: ResourceType = { group: 'test.anvil.dev', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true };

/** How each successive watch goes: the server ends it, it fails, it delivers an event and then fails, or it stays open. */
type WatchScript = 'ends' | 'fails' | 'event-then-fails' | 'open';

/** A KubeClient whose watches follow a script; lists always work. */
class ScriptedClient implements Partial<KubeClient> {
  readonly watchOptions: WatchOptions[] = [];
  constructor(private readonly script: WatchScript[]) {}

  async list<T extends KubeObject>(): Promise<ListResult<T>> {
    return { items: [], resourceVersion: '1' };
  }

  watch<T extends KubeObject>(_type: ResourceType, options: WatchOptions, onEvent: (event: WatchEvent<T>) => void): WatchHandle {
    this.watchOptions.push(options);
    const step = this.script.shift() ?? 'open';
    if (step === 'open') {
      let stop!: () => void;
      const done = new Promise<undefined>((resolve) => (stop = () => resolve(undefined)));
      return { done, stop };
    }
    if (step === 'event-then-fails') onEvent({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '2' } } as T });
    const outcome = step === 'ends' ? undefined : new TypeError('terminated', { cause: new Error('other side closed') });
    return { done: Promise.resolve(outcome), stop: () => undefined };
  }
}

function capturingLogger() {
  const lines: { level: number; msg: string; retryInMs?: number; err?: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

async function runScript(script: WatchScript[]) {
  const client = new ScriptedClient([...script]);
  const { log, lines } = capturingLogger();
  const informer = new Informer(client as unknown as KubeClient, Widgets, log, { backoffInitialMs: 1, backoffMaxMs: 64 });
  informer.start();
  // Played through when the watch after the last scripted one is open.
  for (let i = 0; client.watchOptions.length <= script.length; i++) {
    if (i > 100_000) throw new Error('the informer did not play the script');
    await turn();
  }
  await informer.stop();
  const retries = lines.filter((l) => l.msg.startsWith('list/watch failed')).map((l) => l.retryInMs);
  return { informer, client, lines, retries };
}

describe('Informer backoff', () => {
  it('doubles while watches keep failing and starts over after a watch the server ended normally', async () => {
    const { informer, retries } = await runScript(['fails', 'fails', 'fails', 'fails', 'ends', 'fails', 'fails']);
    expect(retries).toEqual([1, 2, 4, 8, 1, 2]);
    expect(informer.stats).toMatchObject({ watchErrors: 6, watchesEnded: 1, backoffResets: 1, consecutiveFailures: 2, lastRetryDelayMs: 2 });
  });

  it('starts over after a watch that delivered events, even though it then failed', async () => {
    const { informer, retries } = await runScript(['fails', 'fails', 'fails', 'event-then-fails', 'fails']);
    expect(retries).toEqual([1, 2, 4, 1, 2]);
    expect(informer.stats.backoffResets).toBe(1);
  });

  it('logs nothing for watches the server ends, nor for the watch it stops itself', async () => {
    const { informer, lines } = await runScript(['ends', 'ends', 'ends']);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    expect(informer.stats).toMatchObject({ watches: 4, watchesEnded: 3, watchErrors: 0, consecutiveFailures: 0 });
  });

  it('logs a real failure with its cause', async () => {
    const { lines } = await runScript(['fails']);
    expect(lines.find((l) => l.level === 40)?.err).toBe('TypeError: terminated (Error: other side closed)');
  });

  it('relists on 410 Gone without counting it as a failure', async () => {
    const client = new ScriptedClient([]);
    const gone = new ApiError(410, 'Expired', 'too old resource version');
    const watch = client.watch.bind(client);
    let calls = 0;
    client.watch = ((type, options, onEvent) => (++calls === 1 ? { done: Promise.resolve(gone), stop: () => undefined } : watch(type, options, onEvent))) as typeof client.watch;
    const { log, lines } = capturingLogger();
    const informer = new Informer(client as unknown as KubeClient, Widgets, log, { backoffInitialMs: 1 });
    informer.start();
    while (calls < 2) await turn();
    await informer.stop();
    expect(informer.stats).toMatchObject({ lists: 2, relistsOnGone: 1, watchErrors: 0 });
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  });
});

describe('maxWatchTimeoutSeconds', () => {
  it('keeps the server-side watch timeout below the body timeout, with a margin', () => {
    expect(maxWatchTimeoutSeconds(11 * 60_000)).toBe(630);
    expect(maxWatchTimeoutSeconds(300_000)).toBe(270);
    expect(maxWatchTimeoutSeconds(3000)).toBe(2);
    expect(maxWatchTimeoutSeconds(2000)).toBe(1);
    expect(maxWatchTimeoutSeconds(0)).toBeUndefined();
  });
});
