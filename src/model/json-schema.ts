/**
 * The JSON Schema of config.yml, generated from the zod schema (the one source of truth) and
 * annotated from FIELD_DOCS. scripts/gen-schema.ts writes it to schema/config.schema.json;
 * a test fails when that file is stale.
 */
import { z } from 'zod';
import { ClusterGroupSchema } from './schema.ts';
import { FIELD_DOCS } from './field-docs.ts';

type JsonSchema = {
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  [k: string]: unknown;
};

export const SCHEMA_FILE = 'schema/config.schema.json';

export function configJsonSchema(): Record<string, unknown> {
  // draft-07 is what editors (yaml-language-server) understand best; 'input' leaves defaulted fields optional
  const schema = z.toJSONSchema(ClusterGroupSchema, { target: 'draft-7', io: 'input' }) as JsonSchema;
  annotate(schema, '');
  return {
    ...schema,
    title: 'tpa cluster group (config.yml)',
    description: 'A ClusterGroup for tpa: clusters of one primary and replicas, and shared services.',
  };
}

function annotate(s: JsonSchema, path: string): void {
  const doc = path === '' ? undefined : FIELD_DOCS[path];
  if (doc !== undefined) s.description = doc;
  for (const [key, child] of Object.entries(s.properties ?? {}))
    annotate(child, path ? `${path}.${key}` : key);
  if (s.items !== undefined) annotate(s.items, `${path}[]`);
}
