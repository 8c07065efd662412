// Imported first by main.ts: on an older Node.js (a machine's own, say) say which one to use instead of failing later
// with an error that names something else.
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
  process.stderr.write(
    `anvil: needs Node.js 24 or newer; this is ${process.version} (${process.execPath}).\n` +
      `Use the project's own: export PATH=${root}/node_modules/.bin:$PATH (npm ci installs it), or run ${root}/scripts/anvil.\n`,
  );
  process.exit(5);
}
