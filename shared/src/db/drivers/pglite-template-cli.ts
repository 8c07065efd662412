// `node shared/dist/db/drivers/pglite-template-cli.js [OUT]` (or `npx tsx --conditions=anvil-source shared/src/db/drivers/pglite-template-cli.ts`):
// builds the embedded database's template (pglite-template.ts) with the PGlite installed beside it. The image build
// runs it once, writing shared/dist/pglite-template.tar.gz where the boot-server looks by default; it needs about 1.1 GB of
// memory for a minute, at build time instead of at every new pod's first start.
import { defaultTemplatePath, buildTemplate } from './pglite-template.js';

const out = process.argv[2] ?? defaultTemplatePath();
buildTemplate(out).then(
  () => process.stdout.write(`${out}\n`),
  (err: unknown) => {
    process.stderr.write(`pglite-template: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
