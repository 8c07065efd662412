// The nunjucks internals anvil relies on, which @types/nunjucks does not declare: the parser and compiler (validation
// compiles templates without running them), the runtime, compiler and node classes the sandbox patches
// (sandbox-nunjucks.ts), an Environment's filter table, and the loader's "template not found" answer. This is the only
// file that looks past nunjucks' declared types; everything else imports the typed views below.
//
// Loaded by the render worker process from source in development: erasable TypeScript only.
import nunjucks from 'nunjucks';

/** A node of the parser's AST (validate.ts walks it). */
export interface AstNode {
  typename: string;
  fields: string[];
  lineno?: number;
  colno?: number;
  value?: unknown;
  [field: string]: unknown;
}

type Fn = (...args: never[]) => unknown;

/** A node as the compiler sees it (the fields the sandbox's compiler patches read). */
export interface CompilerNode {
  lineno: number;
  colno: number;
  children: CompilerNode[];
  value?: unknown;
  name?: CompilerNode;
  args?: CompilerNode;
}

/** `this` in a method of nunjucks' Compiler (the members the sandbox's patches use). */
export interface CompilerThis {
  buffer: string;
  _emit(code: string): void;
  _emitLine(code: string): void;
  compile(node: CompilerNode, frame: unknown): void;
  compileLiteral(node: CompilerNode, frame: unknown): void;
  assertType(node: CompilerNode | undefined, type: unknown): void;
  _compileAggregate(node: CompilerNode | undefined, frame: unknown, startChar?: string, endChar?: string): void;
  _compileExpression(node: CompilerNode | undefined, frame: unknown): void;
  _getNodeName(node: CompilerNode | undefined): string;
}

/** The internal parts of the nunjucks module anvil uses. */
export interface NunjucksInternals {
  parser: { parse(src: string, extensions: unknown[], opts: object): AstNode };
  compiler: {
    compile(src: string, asyncFilters: string[], extensions: unknown[], name: string, opts: object): string;
    Compiler: { prototype: Record<string, unknown> };
  };
  runtime: Record<string, unknown> & { SafeString: new (val: string) => object };
  nodes: { TemplateData: Fn; Symbol: Fn };
  lib: {
    TemplateError: new (message: string, lineno?: number, colno?: number) => Error;
    _prettifyError(path: string, withInternals: boolean, err: unknown): Error;
  };
}

/** The nunjucks module with its internals typed. */
export const nunjucksInternals: typeof nunjucks & NunjucksInternals = nunjucks as unknown as typeof nunjucks & NunjucksInternals;

export type FilterFunction = (...args: unknown[]) => unknown;

/** An Environment's filters by name (nunjucks' built-in ones and those added with addFilter). */
export function environmentFilters(env: nunjucks.Environment): Record<string, FilterFunction> {
  return (env as unknown as { filters: Record<string, FilterFunction> }).filters;
}

/** What a synchronous loader's getSource returns for a template it does not have: nunjucks then reports "template not found". */
export const TEMPLATE_NOT_FOUND: nunjucks.LoaderSource = null as unknown as nunjucks.LoaderSource;
