// Paused: between a verified wave and the next.
import type { PhaseHandler } from '../types.js';
import { msUntil, stay } from '../waves.js';
import { awaitingWindow } from './awaiting-window.js';

export const paused: PhaseHandler = (snap, status) => {
  const wait = msUntil(status.pauseUntil, snap.now);
  if (wait > 0) return stay(status, wait);
  const { pauseUntil: _done, ...rest } = status;
  return awaitingWindow(snap, { ...rest, phase: 'AwaitingWindow', wave: status.wave + 1 });
};
