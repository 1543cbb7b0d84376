/**
 * The corpus of invalid configs in testdata/invalid/. Each file marks the lines where an
 * error must be reported with a trailing comment `#! FIELD.PATH /message regex/`
 * (`-` for no field, e.g. YAML syntax errors). A file must produce exactly those errors.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export interface ExpectedError {
  line: number;
  path: string;
  message: RegExp;
}

export interface CorpusCase {
  name: string;
  file: string;
  text: string;
  expected: ExpectedError[];
}

export const CORPUS_DIR = fileURLToPath(new URL('./invalid/', import.meta.url));

const MARKER = /#!\s*(\S+)\s+\/(.*)\/\s*$/;

export function loadCorpus(): CorpusCase[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => {
      const text = readFileSync(join(CORPUS_DIR, f), 'utf8');
      const expected = text.split('\n').flatMap((l, i): ExpectedError[] => {
        const m = MARKER.exec(l);
        return m ? [{ line: i + 1, path: m[1] === '-' ? '' : m[1]!, message: new RegExp(m[2]!) }] : [];
      });
      return { name: f.replace(/\.yml$/, ''), file: join(CORPUS_DIR, f), text, expected };
    });
}
