// docs/cli.md follows the declaration in spec.ts: every command has its section, every flag is described there.
import { readFileSync } from 'node:fs';
import { EXIT } from './errors.js';
import { COMMANDS, GLOBAL_FLAGS } from './spec.js';

const doc = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');

describe('docs/cli.md', () => {
  it('documents every command and each of its flags', () => {
    for (const c of COMMANDS.filter((c) => !c.hidden)) {
      const section = doc.split(`\n### anvil ${c.name}\n`)[1]?.split('\n### ')[0] ?? '';
      expect({ command: c.name, documented: section.length > 0 }).toEqual({ command: c.name, documented: true });
      for (const f of c.flags) expect({ command: c.name, flag: f.name, documented: section.includes(`--${f.name}`) }).toEqual({ command: c.name, flag: f.name, documented: true });
    }
    for (const f of GLOBAL_FLAGS) expect({ flag: f.name, documented: doc.includes(`\`--${f.name}`) || doc.includes(`, \`--${f.name}`) }).toEqual({ flag: f.name, documented: true });
  });

  it('lists every exit code', () => {
    const table = doc.split('\n## Exit codes\n')[1]!.split('\n## ')[0]!;
    for (const code of Object.values(EXIT)) expect({ code, listed: table.includes(`\n| ${code} |`) }).toEqual({ code, listed: true });
  });
});
