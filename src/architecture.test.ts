/**
 * The layering rules of docs/architecture.md, checked on every module's relative imports so a
 * change that breaks them fails here instead of slowly tangling the tree: no import cycles,
 * each folder imports only the folders below it, model/ and plan/ import only themselves (and
 * what is listed below), and production code never imports a test or a test helper (the CLI
 * bundle would carry it, or fail without it).
 * A regex over the sources is enough: the imports are written one way (prettier) and type-only
 * imports count too, since a cycle of types is still a cycle to read through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

// `import ... from '...'`, `export ... from '...'` (both may span lines), `import '...'` and
// `import('...')`; only relative specifiers name a module of ours
const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"](\.[^'"]+)['"]|import\s*\(?\s*['"](\.[^'"]+)['"]/g;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') || e.name.endsWith('.tsx') ? [p] : [];
  });
}

/** module (path relative to the repository) -> the modules it imports (same form) */
function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8').replace(/^\s*\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
    const deps = new Set<string>();
    for (const m of text.matchAll(IMPORT)) {
      deps.add(relative(ROOT, resolve(dirname(file), (m[1] ?? m[2])!)));
    }
    graph.set(relative(ROOT, file), [...deps].sort());
  }
  return graph;
}

/** Every cycle's modules in import order (Tarjan's strongly connected components, then one path). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(pathThrough(graph, new Set(scc), v));
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** a shortest way from `start` back to itself inside one strongly connected component */
function pathThrough(graph: Map<string, string[]>, scc: Set<string>, start: string): string[] {
  const from = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!scc.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let x = v; x !== start; x = from.get(x)!) path.splice(1, 0, x);
        return [...path, start];
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

const isTestOnly = (m: string) =>
  m.endsWith('.test.ts') ||
  m.startsWith('test/') ||
  m.includes('/testdata/') ||
  m.endsWith('.test-helper.ts');

const graph = importGraph(tsFiles(SRC));

void test('no module imports itself back through others (import cycles)', () => {
  const found = cycles(graph).map((c) => c.join('\n    -> '));
  assert.deepEqual(found, [], `import cycles:\n  ${found.join('\n  ')}`);
});

const PURE_LAYERS = ['src/model/', 'src/plan/'];

/**
 * Imports out of a pure layer that the code makes today, each with its reason. Keep this list
 * short: a new entry is a decision, not a fix for a failing test.
 */
const PURE_LAYER_EXCEPTIONS = [
  // the type of a config problem, shared with the errors every layer throws; core/errors.ts
  // imports nothing, so model/ stays free of the layers above it
  'src/model/parse.ts imports src/core/errors.ts',
  // the one way to build shell (a pure function over strings, importing nothing): a plan's
  // commands are quoted the same way as every other script
  'src/plan/diff.ts imports src/core/shell.ts',
];

void test('model/ and plan/ import only themselves (node built-ins and npm packages aside)', () => {
  const bad: string[] = [];
  for (const layer of PURE_LAYERS) {
    for (const [mod, deps] of graph) {
      if (!mod.startsWith(layer) || isTestOnly(mod)) continue;
      for (const d of deps) if (!d.startsWith(layer)) bad.push(`${mod} imports ${d}`);
    }
  }
  assert.deepEqual(
    bad.filter((b) => !PURE_LAYER_EXCEPTIONS.includes(b)),
    [],
  );
  // an exception the code no longer needs goes, so the rule tightens by itself
  assert.deepEqual(
    PURE_LAYER_EXCEPTIONS.filter((e) => !bad.includes(e)),
    [],
  );
});

/** top to bottom: a layer imports only the layers below it (docs/architecture.md) */
const LAYERS = [
  'cli',
  // the web console (an entry point like cli/, serving commands over HTTP)
  'ui',
  'commands',
  'checks',
  'clusterdir',
  'engine',
  'components',
  'platforms',
  'secrets',
  'transport',
  'plan',
  'model',
  'core',
];

const layerOf = (m: string) => LAYERS.indexOf(m.split('/')[1] ?? '');

/**
 * The one module of checks/ that components/ may import: a failover manager or pooler declares
 * its `tpa test` checks in its own folder (adding Patroni is a folder and a registry line), in
 * the vocabulary of the checks (a cluster as observed, results), and adds the key of its
 * observation sections to NodeObservation (checks/observation.ts) by declaration merging,
 * which is no import. The kit's imports stay inside checks/ and below components/ (tested
 * below), so this opens no cycle through a registry.
 */
const CHECK_KIT = 'src/checks/kit.ts';

// a command's cli.ts is the CLI's part of the command: it renders with cli/output.ts, parses
// options with cli/options.ts and asks with cli/confirm.ts
const CLI_KIT = ['src/cli/output.ts', 'src/cli/types.ts', 'src/cli/options.ts', 'src/cli/confirm.ts'];
// `tpa ui` is a command whose work is to start the console: its index.ts is the one module of
// commands/ that imports ui/ (the console's own imports of commands/ go down, so no cycle)
const UI_ENTRY = { mod: 'src/commands/ui/index.ts', dep: 'src/ui/server.ts' };
const mayImportUpwards = (mod: string, dep: string) =>
  (/^src\/commands\/[^/]+\/cli\.ts$/.test(mod) && CLI_KIT.includes(dep)) ||
  (mod === UI_ENTRY.mod && dep === UI_ENTRY.dep) ||
  (mod.startsWith('src/components/') && dep === CHECK_KIT);

void test('each layer imports only the layers below it', () => {
  const bad: string[] = [];
  for (const [mod, deps] of graph) {
    if (isTestOnly(mod) || layerOf(mod) < 0) continue;
    for (const d of deps) {
      if (isTestOnly(d) || layerOf(d) >= layerOf(mod) || mayImportUpwards(mod, d)) continue;
      bad.push(`${mod} imports ${d}`);
    }
  }
  assert.deepEqual(bad, []);
  // every folder of src/ has its place, so a new one is placed on purpose
  const unplaced = [...graph.keys()].filter((m) => m.split('/').length > 2 && layerOf(m) < 0);
  assert.deepEqual(unplaced, []);
});

void test('the check kit components import reaches nothing of components/ or above but checks/ itself', () => {
  const seen = new Set<string>();
  const visit = (m: string) => {
    if (seen.has(m)) return;
    seen.add(m);
    for (const d of graph.get(m) ?? []) visit(d);
  };
  visit(CHECK_KIT);
  const above = [...seen].filter(
    (m) => !m.startsWith('src/checks/') && layerOf(m) >= 0 && layerOf(m) <= layerOf('src/components/x'),
  );
  assert.deepEqual(above, []);
  assert.ok(seen.size > 1, 'the kit is scanned');
});

// what the browser downloads is bundled from ui/web/: it may use the API's types and the event
// types (erased when bundled), never a module that runs on the server
const WEB_MAY_IMPORT = ['src/ui/types.ts', 'src/core/events.ts'];

void test('the browser code imports only itself and the shared types', () => {
  const bad: string[] = [];
  for (const [mod, deps] of graph) {
    if (!mod.startsWith('src/ui/web/') || isTestOnly(mod)) continue;
    for (const d of deps)
      if (!d.startsWith('src/ui/web/') && !WEB_MAY_IMPORT.includes(d)) bad.push(`${mod} imports ${d}`);
  }
  assert.deepEqual(bad, []);
  assert.ok(
    [...graph.keys()].some((m) => m.startsWith('src/ui/web/')),
    'the browser code is scanned',
  );
});

void test('production code imports no test, test helper or test data', () => {
  const bad: string[] = [];
  for (const [mod, deps] of graph) {
    if (isTestOnly(mod)) continue;
    for (const d of deps) if (isTestOnly(d)) bad.push(`${mod} imports ${d}`);
  }
  assert.deepEqual(bad, []);
});

void test('the import scan sees the imports (a regex that matched nothing would pass everything)', () => {
  assert.ok(graph.size > 100);
  assert.ok(graph.get('src/cli/main.ts')?.includes('src/core/version.ts'));
  const parsed = importGraph([join(SRC, 'architecture.test.ts')]);
  assert.deepEqual(parsed.get('src/architecture.test.ts'), []);
});
