import { isDatabaseUnavailable } from './pg.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it('is true for a server that is away, restarting or cut off (also inside drizzle wrappers)', () => {
    for (const err of [
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      withCode('read ECONNRESET', 'ECONNRESET'),
      withCode('getaddrinfo ENOTFOUND db', 'ENOTFOUND'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Query read timeout'),
      new Error('Client has encountered a connection error and is not queryable'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is starting up', '57P03'),
      withCode('connection failure', '08006'),
      withCode('sorry, too many clients already', '53300'),
      new Error('Failed query: INSERT ...', { cause: withCode('connect ECONNREFUSED', 'ECONNREFUSED') }),
      Object.assign(new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], 'connect failed')),
    ]) {
      expect([err.message, isDatabaseUnavailable(err)]).toEqual([err.message, true]);
    }
  });

  it('is false for a server that answers and refuses', () => {
    for (const err of [
      withCode('password authentication failed for user "anvil"', '28P01'),
      withCode('database "anvil" does not exist', '3D000'),
      withCode('could not serialize access', '40001'),
      withCode('duplicate key value', '23505'),
      new Error('migration 3 (x) was applied with a different checksum'),
      new TypeError('Cannot read properties of undefined'),
    ]) {
      expect([err.message, isDatabaseUnavailable(err)]).toEqual([err.message, false]);
    }
  });
});
