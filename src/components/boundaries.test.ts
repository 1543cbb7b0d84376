/**
 * Everything about failover goes through the FailoverManager and everything about pooling
 * through the Pooler (docs: DESIGN.md, Layers): outside their folders, model/ and the
 * registries, no module names repmgr or pgbouncer nor imports from their folders. Tests are
 * exempt: they assert what the implementations render, names included.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(ROOT, 'src');

const PATTERN = /'repmgr'|"repmgr"|'pgbouncer'|"pgbouncer"|REPMGR|PGBOUNCER|repmgr\/|pgbouncer\//;

const EXEMPT_DIRS = ['src/components/failover/repmgr', 'src/components/pooler/pgbouncer', 'src/model'];
const EXEMPT_FILES = ['src/components/failover/registry.ts', 'src/components/pooler/registry.ts'];

/** Known, deliberate leftovers (exact lines): none left. */
const KNOWN = new Set<string>([]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

function boundaryViolations(): string[] {
  const out: string[] = [];
  for (const file of sources(SRC)) {
    const rel = relative(ROOT, file).split('\\').join('/');
    if (EXEMPT_DIRS.some((d) => rel.startsWith(`${d}/`)) || EXEMPT_FILES.includes(rel)) continue;
    if (rel.endsWith('.test.ts') || rel.endsWith('.test-helper.ts')) continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (PATTERN.test(line) && !KNOWN.has(`${rel}:${line}`)) out.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
  }
  return out;
}

void test('no module outside the failover and pooler folders names repmgr or pgbouncer', () => {
  const found = boundaryViolations();
  assert.deepEqual(
    found,
    [],
    `ask failoverManagerOf(cluster) / poolerOf(cluster) instead:\n${found.join('\n')}`,
  );
});

void test('the known leftovers are still there (remove them from KNOWN once they are gone)', () => {
  for (const entry of KNOWN) {
    const [file, ...rest] = entry.split(':');
    assert.ok(readFileSync(join(ROOT, file!), 'utf8').split('\n').includes(rest.join(':')), entry);
  }
});
