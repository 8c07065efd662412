import { describe, expect, it } from '@jest/globals';
import { kubeTime } from '@anvil/core/conditions';
import { requeueAfter } from '../../../runtime/result.js';
import { NEXT } from '../context.js';
import { fixtureBuild, fixtureContext, FIXED_NOW, fixtureTemplate, FixtureTemplatePorts } from '../fixture-ports.js';
import { failed } from './failed.js';

const at = (ms: number): string => kubeTime(new Date(FIXED_NOW.getTime() + ms));

function failedContext(retryInMs: number, observedGeneration = 1) {
  const ports = new FixtureTemplatePorts();
  const template = fixtureTemplate();
  return fixtureContext(ports, template, { phase: 'Failed', observedGeneration, build: fixtureBuild(template, { failures: 1 }), nextRetryAt: at(retryInMs) });
}

describe('phase Failed', () => {
  it('waits for the retry time', async () => {
    const ctx = failedContext(30_000);
    await expect(failed(ctx)).resolves.toEqual(requeueAfter(30_000));
    expect(ctx.status.phase).toBe('Failed');
  });

  it('goes back to Pending (which resumes the build) once the retry time passed', async () => {
    const ctx = failedContext(-1000);
    await expect(failed(ctx)).resolves.toBe(NEXT);
    expect(ctx.status.phase).toBe('Pending');
    expect(ctx.status.nextRetryAt).toBeUndefined();
    expect(ctx.status.build?.failures).toBe(1);
  });

  it('does not wait when the spec changed', async () => {
    const ctx = failedContext(30_000, 0);
    await expect(failed(ctx)).resolves.toBe(NEXT);
    expect(ctx.status.phase).toBe('Pending');
  });
});
