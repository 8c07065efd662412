// anvil's version: set at build time in the bundle (build.ts), read from package.json when run from source.
import { fs } from './builtins.js';

declare const ANVIL_VERSION: string | undefined;

export function anvilVersion(): string {
  if (typeof ANVIL_VERSION === 'string') return ANVIL_VERSION;
  try {
    return (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
