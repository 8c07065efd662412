// Bad input is logged, but at most a few lines a second so a flood cannot drown the log.
import type { Logger } from 'pino';

export type BadInputLog = (msg: string, fields: Record<string, unknown>) => void;

export function badInputLog(log: Logger, linesPerSecond = 10, now: () => number = Date.now): BadInputLog {
  let budget = 0;
  let window = 0;
  return (msg, fields) => {
    const at = now();
    if (at - window > 1000) {
      window = at;
      budget = linesPerSecond;
    }
    if (budget-- > 0) log.info(fields, msg);
  };
}
