import { checkArgs, parseCommandLine, parseDuration } from './argv.js';
import { UsageError } from './errors.js';
import { findCommand } from './spec.js';

const parse = (...argv: string[]) => parseCommandLine(argv);
const usage = (...argv: string[]): string => {
  try {
    const line = parseCommandLine(argv);
    if (line.command) checkArgs(line.command, line.args);
  } catch (err) {
    if (err instanceof UsageError) return `${err.message}${err.hint ? ` | ${err.hint}` : ''}`;
    throw err;
  }
  return 'ok';
};

describe('the command line', () => {
  it('takes flags before and after arguments, in every spelling kubectl accepts', () => {
    expect(parse('-n', 'lab', 'hosts', 'a', '-owide', '--selector=rack=r1', '-Aw', '--', '-b')).toMatchObject({
      command: { name: 'hosts' },
      args: ['a', '-b'],
      flags: { namespace: 'lab', output: 'wide', selector: 'rack=r1', 'all-namespaces': true, watch: true },
    });
    expect(parse('hosts', '-n=lab', '--watch=false').flags).toEqual({ namespace: 'lab', watch: false });
    expect(parse('history', 'h', '--limit', '3', '--request-timeout', '1m30s').flags).toEqual({ limit: 3, 'request-timeout': 90_000 });
    expect(parse('--version')).toMatchObject({ command: undefined, flags: { version: true } });
  });

  it('says what is wrong, and what was probably meant', () => {
    expect(usage('hots')).toBe('unknown command "hots" for "anvil"; did you mean "hosts"? | Run \'anvil help\' for the list of commands.');
    expect(usage('hosts', '--namspace', 'x')).toMatch(/^unknown flag --namspace for "anvil hosts"; did you mean --namespace\?/);
    expect(usage('-A', 'hosts')).toMatch(/^unknown flag -A for "anvil"; a command's flags go after it, e.g. "anvil hosts -A"/);
    expect(usage('logs', 'h', '-w')).toMatch(/^unknown flag -w for "anvil logs" \(it is a flag of hosts\)/);
    expect(usage('hosts', '-o', 'yml')).toBe('unknown output format "yml" for "anvil hosts"; did you mean "yaml"? (one of: wide, json, yaml, name)');
    expect(usage('hosts', '-n')).toBe('flag -n needs a value (NS)');
    expect(usage('history', 'h', '--limit', '0')).toBe('--limit must be an integer from 1 to 1000, got "0"');
    expect(usage('hosts', '--request-timeout', 'soon')).toBe('--request-timeout must be a duration such as 30s, 2m or 1h30m, got "soon"');
    expect(usage('render')).toBe('render needs a HOST | Usage: anvil render HOST [flags]');
    expect(usage('render', 'a', 'b')).toBe('render takes one HOST, got also "b" | Usage: anvil render HOST [flags]');
    expect(usage('version', 'x')).toBe('version takes no arguments, got also "x" | Usage: anvil version [flags]');
    expect(usage('completion', 'fsh')).toMatch(/^unknown SHELL "fsh" for "anvil completion"; did you mean "zsh"\? \(one of: bash, zsh\)/);
    expect(usage('validate', 'a.yaml', 'b.yaml')).toBe('ok');
  });

  it('reads durations as kubectl does', () => {
    expect([parseDuration('0'), parseDuration('30'), parseDuration('500ms'), parseDuration('2h'), parseDuration('1.5s'), parseDuration('1d')]).toEqual([0, 30_000, 500, 7_200_000, 1500, undefined]);
  });

  it('declares each flag name once per command', () => {
    for (const name of ['hosts', 'logs', 'render', 'diff', 'reinstall', 'history', 'validate', 'completion', 'version']) {
      const c = findCommand(name)!;
      const names = [...c.flags.map((f) => f.name), 'kubeconfig', 'context', 'namespace', 'request-timeout', 'help'];
      const shorts = [...c.flags.map((f) => f.short).filter(Boolean), 'n', 'h'];
      expect({ name, names: new Set(names).size, shorts: new Set(shorts).size }).toEqual({ name, names: names.length, shorts: shorts.length });
    }
  });
});
