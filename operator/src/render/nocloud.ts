// Post-processing and validation of the rendered NoCloud files: what the installer will accept, checked before a
// machine is booted with it.
//
// user-data: `#cloud-config`, YAML (read as YAML 1.1, like cloud-init's PyYAML: `yes` is a boolean), a top-level
// `autoinstall:` mapping with `version: 1`, `identity` (or `user-data`), no plain-text password anywhere (see
// plain-passwords.ts), no interactive-sections (the installer ignores `reporting` when there are any); then anvil adds
// its reporting webhook (`reporting.anvil`, next to any reporters of the user) and validates the result against
// anvil's autoinstall schema. A #cloud-config vendor-data is checked for plain-text passwords too.
//
// Error messages never quote values from the documents (YAML parse errors carry no code frame), so a secret rendered
// into a file cannot leak through a status message.
import { Ajv, type ValidateFunction } from 'ajv';
import { isMap, isNode, stringify, type Document } from 'yaml';
import { autoinstallSchema } from './autoinstall-schema.js';
import { isPlainObject } from './chain.js';
import type { RenderProblem, TemplateField } from './errors.js';
import { netplanSchema } from './netplan-schema.js';
import { TO_STRING, failer, lineAt, lineOf, parseYaml, toJS, toPlain, type Fail } from './nocloud-yaml.js';
import { cloudConfigPasswordProblems, autoinstallPasswordProblems, userDataPasswordProblems } from './plain-passwords.js';
import { schemaProblems } from './schema-problems.js';
export { cryptHashProblem, isCryptHash } from './crypt-hash.js';
export { schemaProblems } from './schema-problems.js';

/** The name of anvil's reporter in autoinstall.reporting (a reporter of that name in the template is replaced). */
export const ANVIL_REPORTER = 'anvil';

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });
const validateAutoinstallSchema: ValidateFunction = ajv.compile(autoinstallSchema);
const validateNetplanSchema: ValidateFunction = ajv.compile(netplanSchema);

// ------------------------------------------------------------------------------------------------------ user-data

export interface UserDataResult {
  /** The user-data to serve: `#cloud-config` + YAML, with anvil's reporter. */
  text: string;
  /** The autoinstall configuration as validated (after the reporter was added). */
  autoinstall: Record<string, unknown>;
}

/**
 * Checks the rendered user-data, adds the reporting webhook and validates the result. Throws a RenderError of kind
 * 'validation' listing every problem found.
 */
export function processUserData(rendered: string, webhookURL: string, webhookRetries: readonly number[] = []): UserDataResult {
  const field: TemplateField = 'userData';
  const fail: Fail = failer(field);

  // cloud-init looks at the first line; blank lines before it (from template tags) would hide it
  const text = rendered.replace(/^\s+(?=#cloud-config)/, '');
  if (!/^#cloud-config[ \t]*(\r?\n|$)/.test(text)) {
    fail([{ line: 1, message: 'user-data must start with the line "#cloud-config"' }]);
  }
  const { doc, lines } = parseYaml(text, fail);
  if (!isMap(doc.contents)) fail([{ message: 'user-data must be a YAML mapping with an autoinstall: key' }]);
  const aiNode = doc.get('autoinstall', true);
  if (!isMap(aiNode)) {
    fail([
      {
        ...(isNode(aiNode) ? { line: lineOf(aiNode, lines) } : {}),
        path: 'autoinstall',
        message: isNode(aiNode) ? 'must be a mapping' : 'missing: the autoinstall configuration goes under a top-level autoinstall: key',
      },
    ]);
  }
  const document = toJS(doc, fail);
  const ai = document.autoinstall as Record<string, unknown>;
  const problems: RenderProblem[] = [];
  const at = (path: (string | number)[]) => {
    const node = doc.getIn(['autoinstall', ...path], true);
    return isNode(node) ? { line: lineOf(node, lines) } : {};
  };

  if (!Object.hasOwn(ai, 'identity') && !Object.hasOwn(ai, 'user-data')) {
    problems.push({ ...at([]), path: 'autoinstall', message: 'needs an identity section (or user-data that creates a user)' });
  }
  for (const problem of userDataPasswordProblems(document)) {
    problems.push({ ...lineAt(doc, problem.segments, lines), path: problem.path, message: problem.message });
  }
  const interactive = ai['interactive-sections'];
  if (Array.isArray(interactive) && interactive.length > 0) {
    problems.push({
      ...at(['interactive-sections']),
      path: 'autoinstall.interactive-sections',
      message: 'must be empty: the installer ignores reporting when any section is interactive, so anvil could not follow the install',
    });
  }

  // anvil's reporter, next to the user's own. curtin's reporter sleeps `retries` seconds before each new try of a
  // failed POST (on any error, 4xx included), so an event posted while the boot-server restarts arrives late, not never.
  const anvilReporter = { type: 'webhook', endpoint: webhookURL, ...(webhookRetries.length ? { retries: [...webhookRetries] } : {}) };
  const reporting = aiNode.get('reporting', true);
  if (isMap(reporting)) reporting.set(ANVIL_REPORTER, doc.createNode(anvilReporter));
  else if (reporting === undefined || reporting === null || (isNode(reporting) && toPlain(reporting) === null)) {
    aiNode.set('reporting', doc.createNode({ [ANVIL_REPORTER]: anvilReporter }));
  }

  const autoinstall = toJS(doc, fail).autoinstall as Record<string, unknown>;
  for (const problem of schemaProblems(validateAutoinstallSchema, autoinstall, 'autoinstall')) {
    problems.push({ ...at(problem.segments), path: problem.path, message: problem.message });
  }
  if (problems.length) fail(problems);

  let out = doc.toString(TO_STRING);
  if (!out.startsWith('#cloud-config')) out = `#cloud-config\n${out}`;
  return { text: out, autoinstall };
}

// ------------------------------------------------------------------------------------------------------ meta-data

export interface MetaDataDefaults {
  instanceId: string;
  hostname: string;
}

/**
 * The meta-data to serve: the rendered one with `instance-id` added when it has none, or `instance-id` and
 * `local-hostname` when the template has no metaData (or it renders empty).
 */
export function processMetaData(rendered: string | undefined, defaults: MetaDataDefaults): string {
  const field: TemplateField = 'metaData';
  const fail: Fail = failer(field);
  if (rendered === undefined || rendered.trim() === '') {
    return stringify({ 'instance-id': defaults.instanceId, 'local-hostname': defaults.hostname }, { version: '1.1', ...TO_STRING });
  }
  const { doc } = parseYaml(rendered, fail);
  if (doc.contents === null) {
    // only comments; a parsed document types its contents as parsed nodes, so the new node goes in through the
    // Document view (doc.set would make a YAML 1.1 !!omap of it)
    const edited: Document = doc;
    edited.contents = edited.createNode({ 'instance-id': defaults.instanceId });
    return edited.toString(TO_STRING);
  }
  if (!isMap(doc.contents)) fail([{ message: 'meta-data must be a YAML mapping' }]);
  const data = toJS(doc, fail) as Record<string, unknown>;
  const id = data['instance-id'];
  if (id === undefined) {
    doc.set('instance-id', defaults.instanceId);
    return doc.toString(TO_STRING);
  }
  if (!((typeof id === 'string' && id.trim() !== '') || typeof id === 'number')) fail([{ path: 'instance-id', message: 'must be a non-empty string' }]);
  return rendered;
}

// ------------------------------------------------------------------------------------------------- network-config

/**
 * The network-config to serve: the host's spec.networkConfig (serialized as YAML) when it has one, else the rendered
 * template, or nothing. Both must be netplan version 2, either as the mapping itself or under a network: key.
 */
export function processNetworkConfig(rendered: string | undefined, hostNetworkConfig?: Record<string, unknown>): string | undefined {
  const field: TemplateField = 'networkConfig';
  const fail: Fail = failer(field);
  if (hostNetworkConfig !== undefined) {
    const problems = netplanProblems(hostNetworkConfig, 'spec.networkConfig of the host');
    if (problems.length) fail(problems);
    return stringify(hostNetworkConfig, { version: '1.1', ...TO_STRING });
  }
  if (rendered === undefined || rendered.trim() === '') return undefined;
  const { doc, lines } = parseYaml(rendered, fail);
  if (!isMap(doc.contents)) fail([{ message: 'network-config must be a YAML mapping (netplan version 2)' }]);
  const problems = netplanProblems(toJS(doc, fail), 'network-config').map((p) => {
    const node = p.segments ? doc.getIn(p.segments, true) : undefined;
    return { ...(isNode(node) ? { line: lineOf(node, lines) } : {}), path: p.path, message: p.message };
  });
  if (problems.length) fail(problems);
  return rendered;
}

function netplanProblems(config: unknown, what: string): (RenderProblem & { segments?: (string | number)[] })[] {
  if (!isPlainObject(config)) return [{ message: `${what} must be a mapping (netplan version 2)` }];
  const wrapped = Object.hasOwn(config, 'network') && !Object.hasOwn(config, 'version');
  const inner = wrapped ? config.network : config;
  const prefix = wrapped ? 'network' : '';
  if (!isPlainObject(inner)) return [{ path: prefix || undefined, message: 'must be a mapping (netplan version 2)' }];
  if (inner.version !== 2) {
    return [{ path: prefix ? `${prefix}.version` : 'version', segments: wrapped ? ['network', 'version'] : ['version'], message: 'must be 2 (netplan version 2)' }];
  }
  return schemaProblems(validateNetplanSchema, inner, prefix).map((p) => ({ ...p, segments: wrapped ? ['network', ...p.segments] : p.segments }));
}

// ---------------------------------------------------------------------------------------------------- vendor-data

/**
 * The vendor-data to serve, or nothing when it renders empty. A #cloud-config vendor-data must be a YAML mapping
 * without plain-text passwords.
 */
export function processVendorData(rendered: string | undefined): string | undefined {
  if (rendered === undefined || rendered.trim() === '') return undefined;
  if (rendered.startsWith('#cloud-config')) {
    const fail: Fail = failer('vendorData');
    const { doc, lines } = parseYaml(rendered, fail);
    if (doc.contents !== null && !isMap(doc.contents)) fail([{ message: 'a #cloud-config vendor-data must be a YAML mapping' }]);
    const config = toJS(doc, fail);
    const found = cloudConfigPasswordProblems(config, []);
    if (isPlainObject(config.autoinstall)) found.push(...autoinstallPasswordProblems(config.autoinstall, ['autoinstall']));
    if (found.length) fail(found.map((p) => ({ ...lineAt(doc, p.segments, lines), path: p.path, message: p.message })));
  }
  return rendered;
}
