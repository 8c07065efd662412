// Structured JSON logs for every anvil process. Secrets never reach a log line: known secret-bearing paths are redacted.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function createLogger(component: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  if (!LOG_LEVELS.includes(level as LevelWithSilent)) {
    throw new Error(`invalid log level "${level}": use one of ${LOG_LEVELS.join(', ')}`);
  }
  return pino({
    level,
    base: { component },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['*.password', '*.token', '*.secret', '*.data', 'secret', 'token', 'password', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
}

/** A logger that writes nothing, for unit tests. */
export const silentLogger = (): Logger => pino({ level: 'silent' });
