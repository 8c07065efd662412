// The browser app's files: built by src/build-web.ts into dist/web with content-hashed names and a manifest.json
// naming the entry script and stylesheet. The HTML page is made here (never cached: it names the current hashes);
// the hashed files are cached for a year as immutable.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dashboard/dist/web, from src/server (sources) as from dist/server (compiled). */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../../dist/web', import.meta.url));

export interface WebManifest {
  script: string;
  stylesheet?: string;
}

export function readManifest(dir: string): WebManifest | undefined {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) return undefined;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<WebManifest>;
  return typeof parsed.script === 'string' ? { script: parsed.script, ...(typeof parsed.stylesheet === 'string' ? { stylesheet: parsed.stylesheet } : {}) } : undefined;
}

const escapeAttr = (s: string): string => s.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);

export function indexHtml(manifest: WebManifest, base: string): string {
  const href = (file: string) => escapeAttr(`${base}/static/${file}`);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    '<title>anvil dashboard</title>',
    manifest.stylesheet ? `<link rel="stylesheet" href="${href(manifest.stylesheet)}">` : '',
    `<script type="module" src="${href(manifest.script)}"></script>`,
    '</head>',
    `<body><div id="app" data-base="${escapeAttr(base)}"><noscript>The anvil dashboard needs JavaScript.</noscript></div></body>`,
    '</html>',
    '',
  ].join('\n');
}

/** No inline script or style, no other origin: what the page may load and connect to. */
export const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
