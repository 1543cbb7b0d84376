/**
 * config.yml text -> a typed config, or every problem in it at once, each pinned to a
 * line:col and a dot path. Pure: the caller reads the file.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import type { ConfigIssue } from '../core/errors.ts';
import { ClusterGroupSchema, type ClusterGroupConfig } from './schema.ts';
import { checkRules, dotPath, type IssuePath, type RuleIssue } from './rules/index.ts';
import { zodIssueText } from './zod-messages.ts';

export interface ParseResult {
  /** present only when there are no errors */
  config?: ClusterGroupConfig;
  warnings: ConfigIssue[];
  errors: ConfigIssue[];
}

export function parseConfig(text: string, file = 'config.yml'): ParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => lineCounter.linePos(offset);
  const warnings: ConfigIssue[] = doc.warnings.map((w) => ({
    file,
    ...at(w.pos[0]),
    path: '',
    message: w.message,
  }));
  const errors: ConfigIssue[] = doc.errors.map((e) => ({
    file,
    ...at(e.pos[0]),
    path: '',
    message: `YAML syntax: ${e.message}`,
  }));
  if (errors.length > 0) return { warnings, errors: byPosition(errors) };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return {
      warnings,
      errors: [{ file, line: 1, col: 1, path: '', message: `YAML: ${(e as Error).message}` }],
    };
  }
  if (data === null || data === undefined) {
    return {
      warnings,
      errors: [
        {
          file,
          line: 1,
          col: 1,
          path: '',
          message: 'the file is empty',
          hint: 'run tpa configure to write one',
        },
      ],
    };
  }

  const issue = (path: IssuePath, message: string, hint?: string): ConfigIssue => {
    const pos = locate(doc, path, at);
    return { file, line: pos.line, col: pos.col, path: dotPath(path), message, ...(hint ? { hint } : {}) };
  };

  let result = ClusterGroupSchema.safeParse(data, { reportInput: true });
  if (!result.success) {
    for (const zi of result.error.issues) {
      for (const t of zodIssueText(zi, (p) => locate(doc, p, at).found))
        errors.push(issue(t.path, t.message, t.hint));
    }
    // Unknown keys change nothing else, so without them the semantic rules can still speak.
    if (result.error.issues.every((i) => i.code === 'unrecognized_keys')) {
      result = ClusterGroupSchema.safeParse(withoutKeys(data, result.error.issues));
    }
  }
  if (result.success) {
    for (const ri of checkRules(result.data)) {
      (ri.severity === 'error' ? errors : warnings).push(toIssue(ri));
    }
  }
  return {
    ...(errors.length === 0 && result.success ? { config: result.data } : {}),
    warnings: byPosition(warnings),
    errors: byPosition(errors),
  };

  function toIssue(ri: RuleIssue): ConfigIssue {
    return issue(ri.path, ri.message, ri.hint);
  }
}

function byPosition(issues: ConfigIssue[]): ConfigIssue[] {
  return issues
    .map((i, n) => ({ i, n }))
    .sort((a, b) => (a.i.line ?? 0) - (b.i.line ?? 0) || (a.i.col ?? 0) - (b.i.col ?? 0) || a.n - b.n)
    .map(({ i }) => i);
}

/**
 * The position of the field at `path`: the key of a mapping entry, the start of a sequence item.
 * A missing field points at the deepest part that exists (the parent mapping).
 */
export function locate(
  doc: Document,
  path: IssuePath,
  at: (offset: number) => { line: number; col: number },
): { line: number; col: number; found: boolean } {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range?.[0] ?? 0;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) return { ...at(offset), found: false };
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      const item = node.items[seg];
      offset = (item as Node | null)?.range?.[0] ?? offset;
      node = item;
    } else {
      return { ...at(offset), found: false };
    }
  }
  return { ...at(offset), found: true };
}

function withoutKeys(data: unknown, issues: z.core.$ZodIssue[]): unknown {
  const copy: unknown = structuredClone(data);
  for (const i of issues) {
    if (i.code !== 'unrecognized_keys') continue;
    let target: unknown = copy;
    for (const seg of i.path) target = (target as Record<PropertyKey, unknown>)[seg];
    for (const key of i.keys) delete (target as Record<string, unknown>)[key];
  }
  return copy;
}
