import { describe, expect, it } from '@jest/globals';
import { gateVerdict } from './gate.js';

describe('the diff gate', () => {
  it('lets post-install and package changes and patch releases through by default', () => {
    expect(gateVerdict({ revision: 'r2', changes: ['post-install', 'packages'] }).verdict).toBe('allowed');
    expect(gateVerdict({ revision: 'r2', release: 'patch' }).verdict).toBe('allowed');
  });

  it('asks for approval of a storage change and of a major release, naming why and which revision', () => {
    expect(gateVerdict({ revision: 'r2', changes: ['post-install', 'storage'] })).toEqual({
      verdict: 'needs-approval',
      reason: 'a storage change (automatic up to packages) needs approval of revision r2',
    });
    expect(gateVerdict({ revision: 'img-26.04', release: 'major' }).reason).toBe('a major release (automatic: same, patch) needs approval of revision img-26.04');
    expect(gateVerdict({ revision: 'r2', release: 'downgrade' }).verdict).toBe('needs-approval');
    expect(gateVerdict({ revision: 'r2', release: 'unknown' }).verdict).toBe('needs-approval');
  });

  it('takes an approval for exactly the revision asking, never for the next one', () => {
    expect(gateVerdict({ revision: 'r2', changes: ['storage'], approvedRevision: 'r2' })).toEqual({ verdict: 'allowed', reason: 'a storage change (automatic up to packages), approved for revision r2' });
    expect(gateVerdict({ revision: 'r3', changes: ['storage'], approvedRevision: 'r2' }).verdict).toBe('needs-approval');
  });

  it("follows the policy's classes", () => {
    expect(gateVerdict({ revision: 'r2', changes: ['packages'] }, { autoApproveChangesUpTo: 'post-install' }).verdict).toBe('needs-approval');
    expect(gateVerdict({ revision: 'r2', changes: ['storage'] }, { autoApproveChangesUpTo: 'installer' }).verdict).toBe('allowed');
    expect(gateVerdict({ revision: 'r2', release: 'minor' }, { autoApproveReleases: ['patch', 'minor'] }).verdict).toBe('allowed');
    expect(gateVerdict({ revision: 'r2', release: 'patch' }, { autoApproveReleases: [] }).reason).toBe('a patch release (automatic: none) needs approval of revision r2');
  });
});
