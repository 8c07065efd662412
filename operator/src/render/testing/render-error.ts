// For the renderer's unit tests: the RenderError a call throws, checked to be of the expected kind.
import { expect } from '@jest/globals';
import { RenderError, type RenderErrorKind } from '../errors.js';

export function renderErrorOf(kind: RenderErrorKind, fn: () => unknown): RenderError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RenderError);
    expect((err as RenderError).kind).toBe(kind);
    return err as RenderError;
  }
  throw new Error(`expected a ${kind} error`);
}
