// Reading and validating a rendered Ignition config before it is published: JSON or YAML text to a JSON object, then
// anvil's own checks (supported spec version, the v3 shape, absolute paths, unit names, password hashes only). Every
// problem names the path and, where the text has one, the line of the rendered config. Messages never quote values
// from the document, so a secret rendered into it cannot leak through a status message.
import { Ajv, type ValidateFunction } from 'ajv';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import { isPlainObject } from '../render/chain.js';
import { cryptHashProblem } from '../render/crypt-hash.js';
import { RenderError, type RenderProblem } from '../render/errors.js';
import { PASSWORD_FIX } from '../render/plain-passwords.js';
import { schemaProblems } from '../render/schema-problems.js';
import { ignitionSchema } from './ignition-schema.js';

/** The Ignition config spec versions anvil serves (Ignition 2.x reads 3.0.0 up to the spec its release knows). */
export const SUPPORTED_IGNITION_VERSIONS = ['3.0.0', '3.1.0', '3.2.0', '3.3.0', '3.4.0'] as const;
/** kernelArguments exists from spec 3.3.0 on. */
const KERNEL_ARGUMENTS_SINCE = '3.3.0';
const UNIT_SUFFIX = /\.(service|socket|device|mount|automount|swap|target|path|timer|slice|scope)$/;

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
const validateShape: ValidateFunction = ajv.compile(ignitionSchema);

type Segments = (string | number)[];

export interface ParsedIgnition {
  config: Record<string, unknown>;
  /** The line of the value at `segments` in the rendered text, when known. */
  lineOf(segments: Segments): number | undefined;
}

const fail = (problems: RenderProblem[]): never => {
  throw new RenderError('validation', problems.map((p) => ({ field: 'ignition', ...p })));
};

/** Parses the rendered config (JSON, or YAML for hand-written templates). Throws a validation RenderError. */
export function parseIgnition(text: string): ParsedIgnition {
  if (text.trim() === '') fail([{ message: 'the Ignition config renders empty: it must be a JSON (or YAML) object with ignition.version' }]);
  const looksJson = /^\s*[{[]/.test(text);
  let config: unknown;
  if (looksJson) {
    try {
      config = JSON.parse(text);
    } catch (err) {
      fail([{ ...jsonErrorPosition(text, err), message: `invalid JSON: ${jsonErrorReason(err)}` }]);
    }
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { version: '1.2', uniqueKeys: true, prettyErrors: false, lineCounter: lines });
  if (!looksJson) {
    if (doc.errors.length) {
      fail(
        doc.errors.slice(0, 5).map((err) => {
          const pos = lines.linePos(err.pos[0]);
          return { line: pos.line, column: pos.col, message: `invalid YAML: ${err.message.split(/ at line \d+|\n/)[0]}` };
        }),
      );
    }
    try {
      config = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      fail([{ message: `invalid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` }]);
    }
  }
  if (!isPlainObject(config)) return fail([{ line: 1, message: 'the Ignition config must be a JSON object' }]);
  // locations come from the YAML reading of the same text (JSON is YAML); none when it could not read it
  const located: Document.Parsed | undefined = doc.errors.length ? undefined : doc;
  return {
    config,
    lineOf: (segments) => {
      const found = located?.getIn(segments, true);
      return isNode(found) && found.range ? lines.linePos(found.range[0]).line : undefined;
    },
  };
}

/** Every problem of a parsed config (empty when anvil would serve it). */
export function ignitionProblems({ config, lineOf }: ParsedIgnition): RenderProblem[] {
  const at = (segments: Segments, path: string, message: string): RenderProblem => {
    const line = lineOf(segments);
    return { ...(line !== undefined ? { line } : {}), ...(path ? { path } : {}), message };
  };
  const version = isPlainObject(config.ignition) ? config.ignition.version : undefined;
  if (typeof version === 'string' && !(SUPPORTED_IGNITION_VERSIONS as readonly string[]).includes(version)) {
    const shown = /^[0-9A-Za-z.+-]{1,32}$/.test(version) ? `"${version}" ` : '';
    const hint = /^[12]\./.test(version) ? ' (spec 2.x configs are for Ignition 0.x: translate them with ignition-config-transpiler or write spec 3)' : '';
    return [at(['ignition', 'version'], 'ignition.version', `${shown}is not a supported Ignition config version: anvil serves ${SUPPORTED_IGNITION_VERSIONS.join(', ')}${hint}`)];
  }
  const problems: RenderProblem[] = schemaProblems(validateShape, config, '').map((p) => at(p.segments, p.path, p.message));
  if (problems.length) return problems;

  if (config.kernelArguments !== undefined && compareVersions(version as string, KERNEL_ARGUMENTS_SINCE) < 0) {
    problems.push(at(['kernelArguments'], 'kernelArguments', `needs ignition.version ${KERNEL_ARGUMENTS_SINCE} or later (Ignition ignores it in ${String(version)})`));
  }
  const storage = (config.storage ?? {}) as Record<string, unknown>;
  for (const kind of ['files', 'directories', 'links'] as const) {
    for (const [i, entry] of arrayOf(storage[kind]).entries()) {
      if (!String(entry.path).startsWith('/')) problems.push(at(['storage', kind, i, 'path'], `storage.${kind}[${i}].path`, 'must be an absolute path'));
    }
  }
  const systemd = (config.systemd ?? {}) as Record<string, unknown>;
  for (const [i, unit] of arrayOf(systemd.units).entries()) {
    if (!UNIT_SUFFIX.test(String(unit.name))) {
      problems.push(at(['systemd', 'units', i, 'name'], `systemd.units[${i}].name`, 'must be a systemd unit name with its type (e.g. example.service, data.mount)'));
    }
  }
  const passwd = (config.passwd ?? {}) as Record<string, unknown>;
  for (const kind of ['users', 'groups'] as const) {
    for (const [i, entry] of arrayOf(passwd[kind]).entries()) {
      const hash = entry.passwordHash;
      if (typeof hash !== 'string') continue;
      const problem = cryptHashProblem(hash);
      if (problem) problems.push(at(['passwd', kind, i, 'passwordHash'], `passwd.${kind}[${i}].passwordHash`, `${problem}; ${PASSWORD_FIX.replace('| yaml', '| json')}`));
    }
  }
  return problems;
}

/** Parses and validates; throws a validation RenderError listing every problem. */
export function readIgnition(text: string): Record<string, unknown> {
  const parsed = parseIgnition(text);
  const problems = ignitionProblems(parsed);
  if (problems.length) fail(problems);
  return parsed.config;
}

function arrayOf(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isPlainObject) : [];
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** Line and column of a JSON.parse error, from its character position. */
function jsonErrorPosition(text: string, err: unknown): { line?: number; column?: number } {
  const message = err instanceof Error ? err.message : '';
  const position = /at position (\d+)/.exec(message)?.[1];
  const offset = position !== undefined ? Number(position) : /Unexpected end of JSON input/.test(message) ? text.length : undefined;
  if (offset === undefined) return {};
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

/** V8's reason without the excerpt of the document some of its messages quote. */
function jsonErrorReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/^Unexpected end of JSON input/.test(message)) return 'the document ends too early';
  const reason = message.split(/ in JSON at position|, "|\n/)[0]!.replace(/^Unexpected token '.'.*$/s, 'unexpected character');
  return reason.includes('"') ? 'syntax error' : reason.replace(/^./, (c) => c.toLowerCase());
}
