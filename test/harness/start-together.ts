// Independent components of a test started at the same time (PostgreSQL's initdb and the control plane's start both
// wait on more than the CPU), with nothing left running when one of them fails.
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './control-plane.js';
import { startPostgres, type PostgresOptions, type RunningPostgres } from './postgres.js';

export async function startPostgresAndControlPlane(pgOptions: PostgresOptions = {}, cpOptions: ControlPlaneOptions = {}): Promise<[RunningPostgres, ControlPlane]> {
  const [pg, cp] = await Promise.allSettled([startPostgres(pgOptions), startControlPlane(cpOptions)]);
  if (pg.status === 'fulfilled' && cp.status === 'fulfilled') return [pg.value, cp.value];
  if (pg.status === 'fulfilled') await pg.value.stop();
  if (cp.status === 'fulfilled') await cp.value.stop();
  const failure = [pg, cp].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  throw failure?.reason;
}
