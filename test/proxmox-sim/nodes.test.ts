import { describe, expect, it } from '@jest/globals';
import { VERSIONS } from './nodes.js';
import { pveReferenceAvailable } from './schema.js';
import { testSim } from './testing.js';

const maybe = pveReferenceAvailable() ? describe : describe.skip;

maybe('nodes: version and the one node', () => {
  it('answers the version of the PVE major it simulates', async () => {
    expect((await testSim({ pveMajor: 8 }).call('GET', '/version')).data).toEqual(VERSIONS[8]);
    expect((await testSim({ pveMajor: 9 }).call('GET', '/version')).data).toEqual({ version: '9.1.2', release: '9.1', repoid: '9d436f37a0ac4172' });
  });

  it('fails the lookup of any other node, before the permission and parameter checks', async () => {
    const sim = testSim();
    sim.ctx.access.deny('anvil@pve!builder', '/', '*');
    await expect(sim.call('GET', '/nodes/pve2/qemu/100/config', { bogus: '1' })).rejects.toMatchObject({
      status: 500,
      message: "hostname lookup 'pve2' failed - failed to get address info for: pve2: Name or service not known\n",
    });
  });
});
