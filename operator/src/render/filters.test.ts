import { parse } from 'yaml';
import { b64decodeFilter, b64encodeFilter, FilterError, jsonFilter, shellquoteFilter, UndefinedValueError, yamlFilter } from './filters.js';

const HOSTILE_STRINGS = [
  'a: b\n- c',
  '#x',
  '{{',
  '}}',
  '{% raw %}',
  'multi\nline\n  indented\n',
  '- item',
  '[1, 2]',
  '{a: 1}',
  'key: value # comment',
  ':',
  '? complex',
  '"double"',
  "'single'",
  '\\backslash\\',
  'tab\there',
  'cr\r\nlf',
  'line\u2028separator\u2029paragraph',
  'next\u0085line',
  'nul\u0000esc\u001bdel\u007f',
  'bom\ufeff',
  'emoji 😀 and ünïcödé',
  '',
  ' leading and trailing ',
  'yes',
  'on',
  'No',
  'null',
  '~',
  '0777',
  '1:20',
  '1e3',
  '.inf',
  '2001-12-14',
  '%YAML 1.2',
  '---',
  '...',
  '!!binary',
  '&anchor',
  '*alias',
  '@at',
  '`backtick`',
  '| block',
  '> folded',
  '<<',
];

/** The filter's output must read back as the value, whatever surrounds it, in YAML 1.1 (cloud-init) and 1.2. */
function roundTrips(value: unknown): void {
  const text = yamlFilter(value);
  expect(text).not.toContain('\n');
  const doc = `#cloud-config\nfirst: ${text}\nlist:\n  - ${text}\n  - after\nflow: [${text}, ${text}]\nnested:\n  inner: ${text}\nlast: 1\n`;
  for (const version of ['1.1', '1.2'] as const) {
    expect(parse(doc, { version, uniqueKeys: true })).toEqual({
      first: value,
      list: [value, 'after'],
      flow: [value, value],
      nested: { inner: value },
      last: 1,
    });
  }
}

describe('yaml filter', () => {
  it.each(HOSTILE_STRINGS.map((s) => [JSON.stringify(s), s]))('keeps the structure around the string %s', (_name, s) => {
    roundTrips(s);
  });

  it('renders lists and mappings as single-line flow collections, also with hostile content', () => {
    roundTrips(HOSTILE_STRINGS);
    roundTrips({ 'a: b': 'c\n- d', '#k': ['{{', '}}'], nested: { deeper: [1, true, null, 'x'] } });
    expect(yamlFilter(['nginx', 'curl'])).toBe('["nginx","curl"]');
  });

  it('renders scalars plainly', () => {
    expect(yamlFilter(42)).toBe('42');
    expect(yamlFilter(-1.5)).toBe('-1.5');
    expect(yamlFilter(true)).toBe('true');
    expect(yamlFilter(null)).toBe('null');
    expect(yamlFilter('$6$salt$hash')).toBe('"$6$salt$hash"');
    for (const v of [42, -1.5, true, false, null, 0]) roundTrips(v);
  });

  it('escapes characters YAML 1.1 reads as line breaks or refuses', () => {
    expect(yamlFilter('a\u2028b\u0085c\u007fd\ufeff')).toBe('"a\\u2028b\\u0085c\\u007fd\\ufeff"');
  });

  it('unwraps nunjucks SafeStrings (macro output) like strings', () => {
    const safe = new String('a: b'); // stands in for nunjucks' SafeString
    expect(yamlFilter(safe)).toBe('"a: b"');
    expect(yamlFilter([safe])).toBe('["a: b"]');
  });

  it('refuses undefined, non-finite numbers and functions', () => {
    expect(() => yamlFilter(undefined)).toThrow(UndefinedValueError);
    expect(() => yamlFilter(Number.NaN)).toThrow(FilterError);
    expect(() => yamlFilter({ a: Number.POSITIVE_INFINITY })).toThrow('yaml: Infinity cannot be represented');
    expect(() => yamlFilter(() => 1)).toThrow(FilterError);
  });
});

describe('json filter', () => {
  it('is JSON, escaped for YAML, optionally indented', () => {
    const value = { keys: ['ssh-ed25519 AAAA x@y'], text: 'a\u2028b' };
    expect(JSON.parse(jsonFilter(value))).toEqual(value);
    expect(jsonFilter(value)).toBe('{"keys":["ssh-ed25519 AAAA x@y"],"text":"a\\u2028b"}');
    expect(jsonFilter({ a: 1 }, 2)).toBe('{\n  "a": 1\n}');
    expect(() => jsonFilter({ a: 1 }, 'x')).toThrow('json: the indent must be an integer from 0 to 10');
    expect(() => jsonFilter(undefined)).toThrow(UndefinedValueError);
  });
});

describe('base64 filters', () => {
  it('encode UTF-8 and decode back', () => {
    expect(b64encodeFilter('héllo ✓')).toBe(Buffer.from('héllo ✓').toString('base64'));
    expect(b64decodeFilter(b64encodeFilter('héllo ✓\nline 2'))).toBe('héllo ✓\nline 2');
    expect(b64decodeFilter('aGVs\nbG8=')).toBe('hello');
    expect(b64encodeFilter(42)).toBe('NDI=');
  });

  it('refuse invalid input without quoting it', () => {
    for (const bad of ['not base64!', 'abc', 'a===']) {
      expect(() => b64decodeFilter(bad)).toThrow('b64decode: the value is not valid base64');
    }
    expect(() => b64decodeFilter(Buffer.from([0xff, 0xfe, 0x00]).toString('base64'))).toThrow('b64decode: the decoded bytes are not UTF-8 text');
    expect(() => b64encodeFilter({ secret: 'x' })).toThrow('b64encode: expects a string, got object');
    expect(() => b64encodeFilter(undefined)).toThrow(UndefinedValueError);
  });
});

describe('shellquote filter', () => {
  it('makes one POSIX shell word', () => {
    expect(shellquoteFilter("it's $HOME; rm -rf /")).toBe(`'it'\\''s $HOME; rm -rf /'`);
    expect(shellquoteFilter('')).toBe("''");
  });
});
