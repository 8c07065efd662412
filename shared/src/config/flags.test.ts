import { bool, choice, derived, int, list, readFlags, text, url } from './flags.js';
import { ConfigError } from './parse.js';

const GROUPS = {
  main: {
    port: int({ name: 'port', env: 'PORT', label: 'port', default: 80, min: 0, max: 65535, help: 'port' }),
    host: text({ name: 'host', env: 'HOST', value: 'ADDR', default: '0.0.0.0', help: 'bind address' }),
    name: text({ name: 'name', env: 'NAME', help: 'a name', check: (v) => (v === 'bad' ? `name "${v}" is bad` : undefined) }),
    verbose: bool({ name: 'verbose', env: 'VERBOSE', label: 'verbose', default: false, help: 'say more' }),
  },
  more: {
    base: url({ name: 'base', env: 'BASE', label: 'base URL', default: derived('http://HOST:PORT', ({ values }) => `http://${String(values.host)}:${String(values.port)}/`), help: 'base URL' }),
    mode: choice({ name: 'mode', env: 'MODE', label: 'mode', choices: ['a', 'b'], default: 'a', help: 'mode' }),
    level: choice({ name: 'level', label: 'level', choices: ['x', 'y', 'z'], default: 'x', help: 'level' }),
    tags: list({ name: 'tag', env: 'TAGS', separator: ';', repeatable: true, help: 'tags' }),
    zones: list({ name: 'zones', env: 'ZONES', separator: ',', check: (z) => (/^[a-z]+$/.test(z) ? undefined : `zone "${z}" is not a word`), help: 'zones' }),
  },
} as const;

function read(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const r = readFlags(GROUPS, argv, env);
  if (r === 'help') throw new Error('help');
  return r;
}

describe('readFlags', () => {
  it('takes the flag, else its variable, else the default, typed per group', () => {
    expect(read([]).values).toEqual({
      main: { port: 80, host: '0.0.0.0', name: undefined, verbose: false },
      more: { base: 'http://0.0.0.0:80', mode: 'a', level: 'x', tags: [], zones: [] },
    });
    const { values, problems } = read(['--port=81', '--verbose', 'yes', '--tag', 'a b', '--tag', 'c;d'], { PORT: '82', HOST: 'h', NAME: 'n', MODE: 'b', TAGS: 'x;y', ZONES: ' a, ,b ' });
    expect(problems).toEqual([]);
    expect(values).toEqual({
      main: { port: 81, host: 'h', name: 'n', verbose: true },
      more: { base: 'http://h:81', mode: 'b', level: 'x', tags: ['a b', 'c;d'], zones: ['a', 'b'] },
    });
  });

  it('splits the variable of a repeatable list by its separator', () => {
    expect(read([], { TAGS: ' x ; y;;' }).values.more.tags).toEqual(['x', 'y']);
  });

  it('treats an empty value as unset only for text without a default', () => {
    expect(read(['--name', '', '--host', '']).values.main).toMatchObject({ name: undefined, host: '' });
  });

  it('collects every problem instead of stopping at the first', () => {
    const { problems } = read(['--port', '70000', '--name', 'bad', '--verbose', 'maybe', '--mode', 'c', '--level', 'w', '--zones', 'ok,NO'], { BASE: 'ftp://x' });
    expect(problems).toEqual([
      'port must be an integer between 0 and 65535, got "70000"',
      'name "bad" is bad',
      'verbose must be true or false, got "maybe"',
      'base URL must be an http(s) URL without query, e.g. http://10.0.0.2:8080, got "ftp://x"',
      'mode must be a or b, got "c"',
      'level must be one of x, y, z, got "w"',
      'zone "NO" is not a word',
    ]);
  });

  it('has no variable for a flag declared without one', () => {
    expect(read([], { LEVEL: 'y' }).values.more.level).toBe('x');
  });

  it('answers --help and refuses unknown flags and arguments with a ConfigError', () => {
    expect(readFlags(GROUPS, ['--port', 'x', '--help'], {})).toBe('help');
    expect(() => readFlags(GROUPS, ['--nope'], {})).toThrow(ConfigError);
    expect(() => readFlags(GROUPS, ['--nope'], {})).toThrow(/Unknown option '--nope'/);
    expect(() => readFlags(GROUPS, ['stray'], {})).toThrow(ConfigError);
  });
});
