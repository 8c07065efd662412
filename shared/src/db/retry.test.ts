import { describe, it, expect } from '@jest/globals';
import { backoffDelay, isRetryableSerializationError, sqlState, withSerializableRetry } from './retry.js';

const serializationFailure = () => Object.assign(new Error('could not serialize access due to read/write dependencies among transactions'), { code: '40001' });

describe('withSerializableRetry', () => {
  it('finds the SQLSTATE through drizzle’s wrapping', () => {
    const wrapped = new Error('Failed query: ...', { cause: serializationFailure() });
    expect(sqlState(wrapped)).toBe('40001');
    expect(isRetryableSerializationError(wrapped)).toBe(true);
    expect(isRetryableSerializationError(Object.assign(new Error('dup'), { code: '23505' }))).toBe(false);
    expect(isRetryableSerializationError(new Error('ECONNREFUSED'))).toBe(false);
  });

  it('retries 40001 with growing, jittered delays and returns the result', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await withSerializableRetry(
      async () => {
        if (++calls < 4) throw serializationFailure();
        return 'ok';
      },
      { random: () => 0.999, baseDelayMs: 10, maxDelayMs: 50, sleep: async (ms) => void delays.push(ms), onRetry: () => undefined },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(4);
    expect(delays).toEqual([9, 19, 39]);
    expect(backoffDelay(10, 10, 50, () => 0.999)).toBe(49); // capped
    expect(backoffDelay(3, 10, 50, () => 0)).toBe(0); // full jitter
  });

  it('gives up after maxAttempts and does not retry other errors', async () => {
    let calls = 0;
    await expect(withSerializableRetry(async () => { calls++; throw serializationFailure(); }, { maxAttempts: 3, sleep: async () => undefined })).rejects.toThrow(/could not serialize/);
    expect(calls).toBe(3);
    calls = 0;
    await expect(withSerializableRetry(async () => { calls++; throw new Error('syntax'); }, { sleep: async () => undefined })).rejects.toThrow('syntax');
    expect(calls).toBe(1);
  });
});
