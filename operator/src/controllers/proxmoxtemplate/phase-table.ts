// The ProxmoxTemplate build as a table of phase -> handler (as metal3's host state machine). A handler does one
// step: start a PVE task and save its UPID, or look at the saved task and move on when it ended. Nothing waits for
// a task inside a reconcile, and every step first checks whether its work is already done (the image is in the
// import storage, the VM exists with our marker, it is already a template), so a restarted operator resumes a build
// from its status, and a lost status is rebuilt from what is on the node.
import type { ProxmoxTemplatePhase } from '@anvil/core/api';
import { done } from '../../runtime/result.js';
import type { PhaseHandler } from './context.js';
import { converting } from './phases/converting.js';
import { creating } from './phases/creating.js';
import { downloading } from './phases/downloading.js';
import { failed } from './phases/failed.js';
import { pending } from './phases/pending.js';
import { ready } from './phases/ready.js';
import { validating } from './phases/validating.js';

/** Deletion is driven by the reconciler (finalizer); a Deleting object is only looked at by it. */
const deleting: PhaseHandler = async () => done();

export const PHASES: Readonly<Record<ProxmoxTemplatePhase, PhaseHandler>> = {
  Pending: pending,
  Downloading: downloading,
  Creating: creating,
  Converting: converting,
  Validating: validating,
  Ready: ready,
  Failed: failed,
  Deleting: deleting,
};
