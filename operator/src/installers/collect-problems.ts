// Runs several validations and reports every problem at once: one RenderError of kind 'validation'.
import { RenderError } from '../render/errors.js';

export class ProblemCollector {
  private readonly errors: RenderError[] = [];

  /** The result of `fn`, or undefined when it threw a RenderError (kept for throwIfAny). */
  attempt<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof RenderError)) throw err;
      this.errors.push(err);
      return undefined;
    }
  }

  throwIfAny(): void {
    if (this.errors.length) throw new RenderError('validation', this.errors.flatMap((e) => e.problems));
  }
}
