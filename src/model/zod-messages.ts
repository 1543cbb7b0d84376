/** zod issues rewritten for people editing config.yml: what is wrong with the value they wrote. */
import { z } from 'zod';
import { ClusterGroupSchema } from './schema.ts';
import type { IssuePath } from './rules/types.ts';
import { closest } from './suggest.ts';

export interface IssueText {
  path: IssuePath;
  message: string;
  hint?: string;
}

type JsonSchema = { properties?: Record<string, JsonSchema>; items?: JsonSchema };
let inputSchema: JsonSchema | undefined;

/** The field names allowed at a path, read from the JSON Schema of config.yml. */
export function knownKeys(path: IssuePath): string[] {
  inputSchema ??= z.toJSONSchema(ClusterGroupSchema, { io: 'input' }) as JsonSchema;
  let s: JsonSchema | undefined = inputSchema;
  for (const seg of path) s = typeof seg === 'number' ? s?.items : s?.properties?.[seg];
  return Object.keys(s?.properties ?? {});
}

export function zodIssueText(issue: z.core.$ZodIssue, exists: (path: IssuePath) => boolean): IssueText[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(path);
      return issue.keys.map((key) => {
        const near = closest(key, known);
        return {
          path: [...path, key],
          message: `unknown field "${key}"`,
          hint: near ? `did you mean "${near}"?` : `allowed here: ${known.join(', ')}`,
        };
      });
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => JSON.stringify(v)).join(', ');
      if (!exists(path)) return [{ path, message: 'is required', hint: `one of ${options}` }];
      return [{ path, message: `${describe(issue.input)} is not one of ${options}` }];
    }
    case 'invalid_type': {
      if (!exists(path)) return [{ path, message: `is required (${article(issue.expected)})` }];
      return [{ path, message: `expected ${article(issue.expected)}, got ${describe(issue.input)}` }];
    }
    case 'too_small':
    case 'too_big': {
      const n = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      const bound = issue.code === 'too_small' ? 'at least' : 'at most';
      if (issue.origin === 'array')
        return [{ path, message: `needs ${bound} ${n} item${n === 1 ? '' : 's'}` }];
      return [{ path, message: `${describe(issue.input)} is out of range: must be ${bound} ${n}` }];
    }
    case 'invalid_union': {
      // a union of plain types (a setting's value): say which types would do
      const expected = issue.errors.flatMap((alt) =>
        alt[0]?.code === 'invalid_type' ? [article(alt[0].expected)] : [],
      );
      if (expected.length === issue.errors.length && expected.length > 0) {
        return [{ path, message: `expected ${expected.join(' or ')}, got ${describe(issue.input)}` }];
      }
      return [{ path, message: issue.message }];
    }
    default:
      return [{ path, message: issue.message }];
  }
}

function article(expected: string): string {
  const names: Record<string, string> = {
    int: 'an integer',
    object: 'a mapping (key: value)',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    boolean: 'true or false',
  };
  return names[expected] ?? expected;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}
