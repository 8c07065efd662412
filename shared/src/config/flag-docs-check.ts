// For the tests that keep docs/configuration.md's flags tables equal to the declarations.
import { readFileSync, writeFileSync } from 'node:fs';
import { flagTable, withFlagTable } from './flag-docs.js';
import type { FlagGroups } from './flags.js';

/** The doc as it is and as the declarations make it; with ANVIL_UPDATE_DOCS=1 the doc is rewritten first. */
export function documentedFlagTable(docPath: string, id: string, groups: FlagGroups): { actual: string; expected: string } {
  const expected = withFlagTable(readFileSync(docPath, 'utf8'), id, flagTable(groups));
  if (process.env.ANVIL_UPDATE_DOCS === '1') writeFileSync(docPath, expected);
  return { actual: readFileSync(docPath, 'utf8'), expected };
}
