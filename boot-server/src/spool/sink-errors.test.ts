// Which sink errors quarantine a record (the same on every retry) and which are an outage to wait out.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { ApiError } from '@anvil/core/kube';
import { isPermanentSinkError } from './sink-errors.js';

describe('isPermanentSinkError', () => {
  it('quarantines what the record causes: a refused object, bad data, a bug of the sink', () => {
    expect(isPermanentSinkError(new ApiError(422, 'Invalid', 'status.phase: Unsupported value'))).toBe(true);
    expect(isPermanentSinkError(new ApiError(400, 'BadRequest', 'bad patch'))).toBe(true);
    expect(isPermanentSinkError(Object.assign(new Error('invalid input syntax for type timestamp'), { code: '22007' }))).toBe(true);
    expect(isPermanentSinkError(new RangeError('Invalid time value'))).toBe(true);
  });

  it('waits out what the servers cause: conflicts, overload, unreachable, timeouts, restarts', () => {
    expect(isPermanentSinkError(new ApiError(409, 'Conflict', 'modified'))).toBe(false);
    expect(isPermanentSinkError(new ApiError(503, 'ServiceUnavailable', 'etcd'))).toBe(false);
    expect(isPermanentSinkError(Object.assign(new Error('could not serialize access'), { code: '40001' }))).toBe(false);
    expect(isPermanentSinkError(Object.assign(new TypeError('fetch failed'), { cause: new Error('connect ECONNREFUSED') }))).toBe(false);
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_SOCKET']) {
      expect({ code, permanent: isPermanentSinkError(Object.assign(new Error(code), { code })) }).toEqual({ code, permanent: false });
    }
  });

  it('waits out the errors the Kubernetes client really throws when its server is gone', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const agent = new Agent();
    try {
      const err = await agent.request({ origin, path: '/', method: 'GET' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ECONNREFUSED' });
      expect(isPermanentSinkError(err)).toBe(false);
    } finally {
      await agent.close();
    }
  });
});
