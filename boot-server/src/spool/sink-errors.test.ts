// Which sink errors quarantine a record (the same on every retry) and which are an outage to wait out.
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
    // what the Kubernetes client's requests fail with (shared/src/kube/rest-client.test.ts)
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_SOCKET']) {
      expect({ code, permanent: isPermanentSinkError(Object.assign(new Error(code), { code })) }).toEqual({ code, permanent: false });
    }
  });
});
