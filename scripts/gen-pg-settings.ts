/**
 * Writes src/model/pg-settings/pg15-settings.json from the pg_settings of this host's
 * PostgreSQL 15 (Debian's postgresql-15, what the nodes run). Run as root or as any user:
 *   node --import tsx scripts/gen-pg-settings.ts
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import prettier from 'prettier';
import { CATALOGUE_FILE } from '../src/model/pg-settings/catalogue.ts';
import { generateCatalogue } from './pg-settings.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const file = `${root}${CATALOGUE_FILE}`;
const catalogue = await generateCatalogue();
const options = (await prettier.resolveConfig(file)) ?? {};
await writeFile(file, await prettier.format(JSON.stringify(catalogue), { ...options, parser: 'json' }));
console.log(`wrote ${CATALOGUE_FILE}: ${catalogue.settings.length} settings`);
