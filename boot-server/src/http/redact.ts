// Tokens never reach a log line, a status field, a metric or the history: every request path recorded anywhere goes
// through redact() first.
import { IGNITION_CONFIG_FILE, PRESEED_FILE } from '@anvil/core/bootconfig';
import { NOCLOUD_FILES } from './nocloud-files.js';
import { MAC_PATTERN } from './webhook.js';

const TOKEN_ROUTES = new Set(['nocloud', 'webhook', 'ignition', 'preseed']);
const KNOWN_FILES = new Set([...Object.keys(NOCLOUD_FILES), IGNITION_CONFIG_FILE, PRESEED_FILE]);

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Routing is case-insensitive and a client may percent-encode any character, so the route is recognised the same
 * way; of a token route only the route, a well-formed MAC and a known file name (NoCloud, Ignition, preseed) are kept.
 */
export function redact(path: string): string {
  const segments = path.split('/');
  const route = decodeSegment(segments[1] ?? '').toLowerCase();
  if (!TOKEN_ROUTES.has(route)) return path;
  const mac = decodeSegment(segments[2] ?? '');
  const file = decodeSegment(segments.at(-1) ?? '').toLowerCase();
  const kept = [`/${route}`, MAC_PATTERN.test(mac) ? mac : 'REDACTED', 'REDACTED'];
  if (segments.length > 4 && KNOWN_FILES.has(file)) kept.push(file);
  return kept.join('/');
}
