import { maskReplacedSecrets } from './commands/diff.js';

describe('anvil diff masks', () => {
  it('masks an old Secret value where the new line shows a mask', () => {
    expect(maskReplacedSecrets(['-  password: "$6$old"', '-  other: 1', '+  password: "<secret:hash>"', '+  other: 2'])).toEqual(['-  password: "<secret:hash>"', '-  other: 1', '+  password: "<secret:hash>"', '+  other: 2']);
  });
});
