// The diff gate: whether a change may roll out on its own, needs a person's approval, or is refused. The policy names
// the classes allowed automatically; anything above them waits for an approval of exactly that revision (an
// annotation or a field a user or a GitOps commit sets), so approving one change never approves the next.
import { highestOf, rankOf, type ChangeClass } from './change-classes.js';
import type { ReleaseClass } from './release-classes.js';

export interface GatePolicy {
  /** Template changes rolled out without approval: every class up to and including this one. Default: packages. */
  autoApproveChangesUpTo?: ChangeClass;
  /** Image releases rolled out without approval. Default: same and patch. */
  autoApproveReleases?: readonly ReleaseClass[];
}

export interface GateInput {
  /** The revision asking to roll out (a content hash). */
  revision: string;
  /** The classes of its template change, if the change is a template change. */
  changes?: readonly ChangeClass[];
  /** The class of its image release, if the change is a new image. */
  release?: ReleaseClass;
  /** The revision a person approved, if any. */
  approvedRevision?: string;
}

export type GateVerdict =
  | { verdict: 'allowed'; reason: string }
  | { verdict: 'needs-approval'; reason: string };

const DEFAULT_CHANGES_UP_TO: ChangeClass = 'packages';
const DEFAULT_RELEASES: readonly ReleaseClass[] = ['same', 'patch'];

export function gateVerdict(input: GateInput, policy: GatePolicy = {}): GateVerdict {
  const approved = input.approvedRevision !== undefined && input.approvedRevision === input.revision;
  const reasons: string[] = [];
  if (input.changes) {
    const change = highestOf(input.changes);
    const upTo = policy.autoApproveChangesUpTo ?? DEFAULT_CHANGES_UP_TO;
    if (rankOf(change) > rankOf(upTo)) reasons.push(`${article(change)} ${change} change (automatic up to ${upTo})`);
  }
  if (input.release) {
    const allowed = policy.autoApproveReleases ?? DEFAULT_RELEASES;
    if (!allowed.includes(input.release)) reasons.push(`${article(input.release)} ${input.release} release (automatic: ${allowed.join(', ') || 'none'})`);
  }
  if (!reasons.length) return { verdict: 'allowed', reason: 'within the automatic classes' };
  const what = reasons.join(' and ');
  if (approved) return { verdict: 'allowed', reason: `${what}, approved for revision ${input.revision}` };
  return { verdict: 'needs-approval', reason: `${what} needs approval of revision ${input.revision}` };
}

const article = (word: string): string => (/^[aeiou]/.test(word) ? 'an' : 'a');
