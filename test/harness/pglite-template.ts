// Where scripts/build-pglite-template.sh (a setup step) caches the embedded database's template for the installed
// PGlite. Test boot-servers start from it as the image's do; without it they run PGlite's initdb (slower, same data).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function pgliteVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string }).version;
}

export function pgliteTemplatePath(): string {
  const cache = process.env.ANVIL_CACHE_DIR ?? join(homedir(), '.cache', 'anvil');
  return join(cache, `pglite-template-${pgliteVersion()}.tar.gz`);
}

/** The cached template's path when it has been built, else undefined. */
export function cachedPgliteTemplate(): string | undefined {
  const file = pgliteTemplatePath();
  return existsSync(file) ? file : undefined;
}

/** The environment that starts an embedded history from the cached template, as in the image (empty without one). */
export function embeddedTemplateEnv(): Record<string, string> {
  const template = cachedPgliteTemplate();
  return template ? { ANVIL_PGLITE_TEMPLATE: template } : {};
}
