// Regenerates the checked-in files derived from the schema:
//   tsx scripts/generate.ts schema  -> packages/config/schema/enjambre.schema.json
//   tsx scripts/generate.ts docs    -> docs/config-reference.md
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { configJsonSchemaText, defaultsDoc } from '../src/index.ts';

const pkgDir = path.resolve(import.meta.dirname, '..');
const what = process.argv[2];
if (what === 'schema') {
  const file = path.join(pkgDir, 'schema', 'enjambre.schema.json');
  writeFileSync(file, configJsonSchemaText());
  process.stdout.write(`wrote ${file}\n`);
} else if (what === 'docs') {
  const file = path.resolve(pkgDir, '..', '..', 'docs', 'config-reference.md');
  writeFileSync(file, defaultsDoc());
  process.stdout.write(`wrote ${file}\n`);
} else {
  process.stderr.write('usage: tsx scripts/generate.ts schema|docs\n');
  process.exitCode = 2;
}
