/** Writes schema/config.schema.json from the zod schema (npm run schema). */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import prettier from 'prettier';
import { configJsonSchema, SCHEMA_FILE } from '../src/model/json-schema.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const file = `${root}${SCHEMA_FILE}`;
const options = (await prettier.resolveConfig(file)) ?? {};
const text = await prettier.format(JSON.stringify(configJsonSchema()), { ...options, parser: 'json' });
await writeFile(file, text);
console.log(`wrote ${SCHEMA_FILE}`);
