// A render's status message stays within the API's limits however many problems the render has.
import { RenderError } from '../../render/index.js';
import { boundedMessage } from './render-host.js';

describe('boundedMessage', () => {
  it('keeps a short message as it is', () => {
    const err = new RenderError('validation', [{ field: 'userData', line: 3, path: 'password', message: 'is a plain-text password' }]);
    expect(boundedMessage(err)).toBe(err.message);
  });

  it('lists the problems that fit in 2000 characters, then how many more there are', () => {
    const problems = Array.from({ length: 40 }, (_, i) => ({ field: 'userData' as const, line: i + 1, path: `users[${i}].passwd`, message: 'x'.repeat(150) }));
    const message = boundedMessage(new RenderError('validation', problems));
    expect(message.length).toBeLessThanOrEqual(2000);
    expect(message).toMatch(/^userData: rendered line 1: users\[0\]\.passwd: x+; /);
    const shown = message.split('; ').filter((p) => p.startsWith('userData:')).length;
    expect(message.endsWith(`; and ${40 - shown} more problems`)).toBe(true);
  });

  it('cuts a single problem longer than the limit', () => {
    const message = boundedMessage(new RenderError('render', [{ message: 'y'.repeat(5000) }]));
    expect(message.length).toBeLessThanOrEqual(2000);
  });
});
