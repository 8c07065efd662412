// What the runner hands each benchmark.
export interface BenchContext {
  quick: boolean;
  /** A scratch directory for this benchmark (removed afterwards). */
  workDir: string;
  /** When set, anvil's processes write V8 CPU profiles (--cpu-prof) here. */
  cpuProfDir?: string;
  log(message: string): void;
}
