import { EMBEDDED_DATABASE_NODE_FLAGS, missingNodeFlags } from './history-wiring.js';

describe('the node flags the embedded database needs', () => {
  it('are all missing from a plain `node main.js`', () => {
    expect(missingNodeFlags([])).toEqual(EMBEDDED_DATABASE_NODE_FLAGS);
    expect(missingNodeFlags(['--conditions=anvil-source', '--import', 'tsx'])).toEqual(EMBEDDED_DATABASE_NODE_FLAGS);
  });

  it('are not added again after the restart that added them', () => {
    expect(missingNodeFlags([...EMBEDDED_DATABASE_NODE_FLAGS, '--conditions=anvil-source', '--import', 'tsx'])).toEqual([]);
  });

  it('leave a flag given either way, on the command line or in NODE_OPTIONS, as it was given', () => {
    expect(missingNodeFlags(['--no-liftoff-only'])).toEqual(['--max-semi-space-size=8']);
    expect(missingNodeFlags(['--max_semi_space_size=32'])).toEqual(['--liftoff-only']);
    expect(missingNodeFlags([], '--max-semi-space-size=16 --enable-source-maps')).toEqual(['--liftoff-only']);
  });
});
