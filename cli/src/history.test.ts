import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timelineFromApi } from './history.js';

const ID = '00000000-0000-4000-8000-000000000001';
const host = { namespace: 'lab', name: 'node-01' };

const installation = {
  id: ID,
  host: { namespace: 'lab', name: 'node-01', uid: 'uid-1' },
  mac: '52:54:00:12:34:01',
  template: { name: 'ubuntu', contentHash: null, generation: 2 },
  revision: 1,
  attempt: 1,
  startedAt: '2026-01-02T03:00:00.000Z',
  finishedAt: '2026-01-02T03:10:00.000Z',
  finishReceivedAt: null,
  result: 'SUCCESS',
  durationSeconds: 600,
  failureReason: null,
  failureMessage: null,
  failureStage: null,
};
const phase = {
  name: 'subiquity/Install',
  label: 'subiquity/Install',
  parent: null,
  depth: 0,
  startedAt: '2026-01-02T03:01:00.000Z',
  finishedAt: null,
  durationSeconds: null,
  result: null,
  description: 'installing',
  finishDescription: null,
  closedBy: null,
};

/** A history API answering with `detail` for the one installation it lists. */
async function serve(detail: unknown): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const body = req.url?.startsWith('/api/v1/hosts/') ? { items: [{ id: ID }], next: null } : detail;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

async function timelineFrom(detail: unknown) {
  const { server, base } = await serve(detail);
  try {
    return await timelineFromApi(base, host, 10);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('timelineFromApi', () => {
  it('reads installations and phases into the store types, dates as Dates', async () => {
    const timeline = await timelineFrom({ installation, phases: [phase], events: [], eventsNext: null });
    expect(timeline).toEqual([
      {
        installation: { ...installation, startedAt: new Date(installation.startedAt), finishedAt: new Date(installation.finishedAt) },
        phases: [{ ...phase, startedAt: new Date(phase.startedAt) }],
      },
    ]);
  });

  it('takes missing phases as none', async () => {
    expect((await timelineFrom({ installation }))[0]?.phases).toEqual([]);
  });

  it('refuses an answer of another shape, saying which field', async () => {
    await expect(timelineFrom({ installation: { ...installation, attempt: '1' } })).rejects.toThrow('the history API answered an installation whose attempt is not a number');
    await expect(timelineFrom({ installation: { ...installation, result: 'MAYBE' } })).rejects.toThrow('the history API answered an installation whose result is not one of SUCCESS, FAIL, CANCELLED');
    await expect(timelineFrom({ phases: [] })).rejects.toThrow('the history API answered an installation whose installation is not an object');
    await expect(timelineFrom({ installation, phases: [{ ...phase, depth: null }] })).rejects.toThrow('the history API answered a phase whose depth is not a number');
  });
});
