// afterAll cleanup that runs every step even when one fails: a stopped operator must not leave the database, the
// control plane or a lab network running.
export type CleanupStep = () => Promise<unknown> | unknown;

export async function cleanUpAll(steps: readonly CleanupStep[]): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch {
      // the rest must still be cleaned up
    }
  }
}
