import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { configJsonSchema, SCHEMA_FILE } from './json-schema.ts';
import { FIELD_DOCS } from './field-docs.ts';

type S = { properties?: Record<string, S>; items?: S; description?: string };

function fieldPaths(s: S, path = ''): string[] {
  const out: string[] = [];
  for (const [k, child] of Object.entries(s.properties ?? {})) {
    const p = path ? `${path}.${k}` : k;
    out.push(p, ...fieldPaths(child, p));
  }
  if (s.items) out.push(...fieldPaths(s.items, `${path}[]`));
  return out;
}

void test(`${SCHEMA_FILE} is up to date with the zod schema (run: npm run schema)`, async () => {
  const file = fileURLToPath(new URL(`../../${SCHEMA_FILE}`, import.meta.url));
  const committed: unknown = JSON.parse(await readFile(file, 'utf8'));
  assert.deepEqual(committed, configJsonSchema());
});

void test('every documented field exists in the schema, and every field is documented', () => {
  const paths = fieldPaths(configJsonSchema());
  const undocumented = paths.filter((p) => !(p in FIELD_DOCS));
  const unknown = Object.keys(FIELD_DOCS).filter((p) => !paths.includes(p));
  assert.deepEqual(undocumented, [], 'describe these fields in src/model/field-docs.ts');
  assert.deepEqual(unknown, [], 'these documented fields are not in the schema');
});

void test('the schema rejects unknown fields and lists the enums', () => {
  const s = configJsonSchema() as S & { additionalProperties?: boolean };
  assert.equal(s.additionalProperties, false);
  const platform = s.properties?.platform as { enum?: string[] };
  assert.deepEqual(platform.enum, ['lxc', 'bare', 'aws']);
});
