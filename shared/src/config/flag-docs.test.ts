import { flagTable, helpText, withFlagTable } from './flag-docs.js';
import { derived, int, list, text } from './flags.js';

const GROUPS = {
  only: {
    port: int({ name: 'port', env: 'PORT', label: 'port', default: 80, min: 0, max: 65535, help: 'port to listen on' }),
    url: text({ name: 'public-url', env: 'PUBLIC_URL', value: 'URL', default: derived('http://<host>:<port>', () => 'x'), help: 'what machines are told' }),
    mode: text({ name: 'mode-with-a-very-long-name', value: 'a|b|c|d|e|f', help: 'a flag whose synopsis does not fit beside its help' }),
    tags: list({ name: 'tag', env: 'TAGS', value: 'T', separator: ';', repeatable: true, help: 'tags' }),
    words: text({ name: 'words', value: 'W', help: Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ') }),
  },
};

describe('helpText', () => {
  it('lines up the help, wraps it at 120 columns and names defaults and variables', () => {
    const help = helpText('anvil thing', GROUPS);
    expect(help.split('\n').slice(0, 9)).toEqual([
      'anvil thing',
      '',
      'Flags (environment variable in brackets):',
      '  --port N          port to listen on (default 80) [PORT]',
      '  --public-url URL  what machines are told (default: http://<host>:<port>) [PUBLIC_URL]',
      '  --mode-with-a-very-long-name a|b|c|d|e|f',
      '                    a flag whose synopsis does not fit beside its help',
      "  --tag T           tags (repeatable; env: ';'-separated) [TAGS]",
      '  --words W         word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12 word13 word14',
    ]);
    expect(help).toMatch(/\n {2}--help {12}print this help\n$/);
    for (const line of help.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
  });
});

describe('flagTable', () => {
  it('escapes what markdown would misread', () => {
    expect(flagTable(GROUPS).split('\n').slice(0, 6)).toEqual([
      '| flag | environment variable | default | meaning |',
      '|---|---|---|---|',
      '| `--port N` | `PORT` | `80` | port to listen on. |',
      '| `--public-url URL` | `PUBLIC_URL` | http://&lt;host>:&lt;port> | what machines are told. |',
      '| `--mode-with-a-very-long-name a\\|b\\|c\\|d\\|e\\|f` |  |  | a flag whose synopsis does not fit beside its help. |',
      '| `--tag T` | `TAGS` |  | tags. Repeatable; the variable separates values with `;`. |',
    ]);
  });
});

describe('withFlagTable', () => {
  const doc = 'intro\n<!-- BEGIN generated flags:a -->\nold\nrows\n<!-- END generated flags:a -->\nafter\n';

  it('replaces the block between its markers and nothing else', () => {
    expect(withFlagTable(doc, 'a', 'new')).toBe('intro\n<!-- BEGIN generated flags:a -->\nnew\n<!-- END generated flags:a -->\nafter\n');
  });

  it('throws when the doc has no such block', () => {
    expect(() => withFlagTable(doc, 'b', 'new')).toThrow(/no generated flags block "b"/);
  });
});
