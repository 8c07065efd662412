// Reading a rendered NoCloud file as YAML the way cloud-init does (YAML 1.1, unique keys, bounded aliases), with the
// line of each node for problems. Errors never quote the document (no code frame), so a secret in it cannot leak
// through a status message.
import { type Document, LineCounter, isNode, parseDocument, type DocumentOptions, type ParseOptions, type SchemaOptions } from 'yaml';
import { RenderError, type RenderProblem, type TemplateField } from './errors.js';

const YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = { version: '1.1', uniqueKeys: true, prettyErrors: false };
/** How documents are written back: no line folding. */
export const TO_STRING = { lineWidth: 0 } as const;
/** Aliases a document may expand (guards against "billion laughs" documents). */
const MAX_ALIAS_COUNT = 100;

/** Throws the problems as one validation RenderError. */
export type Fail = (problems: RenderProblem[]) => never;

export function failer(field: TemplateField): Fail {
  return (problems) => {
    throw new RenderError('validation', problems.map((p) => ({ field, ...p })));
  };
}

export function parseYaml(text: string, fail: Fail): { doc: Document.Parsed; lines: LineCounter } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { ...YAML_OPTIONS, lineCounter: lines });
  if (doc.errors.length) {
    fail(
      doc.errors.slice(0, 5).map((err) => {
        const pos = lines.linePos(err.pos[0]);
        // the first sentence only: yaml's messages may go on with an excerpt of the document
        return { line: pos.line, column: pos.col, message: `invalid YAML: ${err.message.split(/ at line \d+|\n/)[0]}` };
      }),
    );
  }
  return { doc, lines };
}

export function toJS(doc: Document.Parsed, fail: Fail): Record<string, unknown> {
  try {
    return (doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {}) as Record<string, unknown>;
  } catch (err) {
    return fail([{ message: `invalid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` }]);
  }
}

export function toPlain(node: unknown): unknown {
  return isNode(node) ? node.toJSON() : node;
}

/** The line of the node at `segments`, when there is one. */
export function lineAt(doc: Document.Parsed, segments: (string | number)[], lines: LineCounter): { line?: number } {
  const node = doc.getIn(segments, true);
  return isNode(node) ? { line: lineOf(node, lines) } : {};
}

export function lineOf(node: { range?: [number, number, number] | null }, lines: LineCounter): number | undefined {
  return node.range ? lines.linePos(node.range[0]).line : undefined;
}
