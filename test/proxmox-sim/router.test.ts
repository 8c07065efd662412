import { describe, expect, it } from '@jest/globals';
import { SimError } from './errors.js';
import { verify } from './router.js';
import { pveReferenceAvailable } from './schema.js';
import { testSim } from './testing.js';

const maybe = pveReferenceAvailable() ? describe : describe.skip;

maybe('router: one endpoint table, one parameter verification', () => {
  it('resolves schema endpoints and the endpoints resources declare themselves', () => {
    const { router } = testSim();
    expect(router.resolve('GET', '/nodes/pve/qemu/100/config')).toMatchObject({
      template: '/nodes/{node}/qemu/{vmid}/config',
      pathParams: { node: 'pve', vmid: '100' },
      schemaChecked: true,
    });
    expect(router.resolve('DELETE', '/nodes/pve/storage/local/content/local:import/x.qcow2')).toMatchObject({
      template: '/nodes/{node}/storage/{storage}/content/{volume}',
      pathParams: { node: 'pve', storage: 'local', volume: 'local:import/x.qcow2' },
      schemaChecked: false,
    });
    expect(router.resolve('GET', '/nodes/pve/tasks/UPID:x/log')?.schemaChecked).toBe(false);
    expect(router.resolve('DELETE', '/nodes/pve/qemu/100')?.schemaChecked).toBe(false);
    expect(router.resolve('PATCH' as 'GET', '/version')).toBeUndefined();
    expect(router.resolve('GET', '/nodes/pve/nothing')).toBeUndefined();
  });

  it('verifies schema and declared endpoints alike, with PVE messages', () => {
    const { router } = testSim();
    const config = router.resolve('PUT', '/nodes/pve/qemu/100/config')!;
    expect(verify(config, { ...config.pathParams, cores: 'two', scsi31: 'local-lvm:1' })).toEqual({
      cores: "type check ('integer') failed - got 'two'",
      scsi31: 'property is not defined in schema and the schema does not allow additional properties',
    });
    const log = router.resolve('GET', '/nodes/pve/tasks/UPID:x/log')!;
    expect(verify(log, { ...log.pathParams, limit: '-1' })).toEqual({ limit: 'value must have a minimum value of 0' });
    const destroy = router.resolve('DELETE', '/nodes/pve/qemu/99')!;
    expect(verify(destroy, destroy.pathParams)).toEqual({ vmid: 'invalid format - value does not look like a valid VM ID\n' });
  });

  it('answers 400 for invalid parameters before any handler runs, and 501 for a schema endpoint no resource serves', async () => {
    const sim = testSim();
    await expect(sim.call('POST', '/nodes/pve/qemu', { vmid: '100', cores: 'x' })).rejects.toMatchObject({
      status: 400,
      errors: { cores: "type check ('integer') failed - got 'x'" },
    });
    expect(sim.ctx.tasks.tasks.size).toBe(0);
    await expect(sim.call('POST', '/nodes/pve/storage/local/content', { filename: 'x.raw', vmid: '100', size: '1G' })).rejects.toEqual(
      new SimError(501, "Method 'POST /nodes/{node}/storage/{storage}/content' not implemented in the simulator\n"),
    );
  });
});
