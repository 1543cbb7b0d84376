import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './parse.ts';

const VALID = `name: acme
clusters:
  - name: main
    nodes:
      - { name: main-1, role: primary }
      - { name: main-2, role: replica }
`;

void test('a valid config comes back typed, with defaults filled in', () => {
  const r = parseConfig(VALID);
  assert.deepEqual(r.errors, []);
  assert.equal(r.config?.platform, 'lxc');
  assert.equal(r.config?.postgres.version, 15);
  assert.equal(r.config?.defaults.volume_gb, 20);
  assert.equal(r.config?.clusters[0]?.failover_manager, 'repmgr');
  assert.equal(r.config?.backup.mode, 'none');
  // backups off is valid but worth a warning, located at the parent (backup is not in the file)
  assert.deepEqual(
    r.warnings.map((w) => `${w.line}:${w.col} ${w.path}`),
    ['1:1 backup.mode'],
  );
});

void test('issues carry the file name given, line and column of the key', () => {
  const r = parseConfig(VALID.replace('role: replica', 'role: standby'), 'groups/acme/config.yml');
  assert.equal(r.config, undefined);
  assert.deepEqual(r.errors, [
    {
      file: 'groups/acme/config.yml',
      line: 6,
      col: 25,
      path: 'clusters.0.nodes.1.role',
      message: '"standby" is not one of "primary", "replica"',
    },
  ]);
});

void test('a YAML syntax error stops there, with its position', () => {
  const r = parseConfig('name: acme\nclusters: [\n');
  assert.equal(r.config, undefined);
  assert.equal(r.errors.length >= 1, true);
  assert.match(r.errors[0]!.message, /^YAML syntax: /);
  assert.equal(r.errors[0]!.path, '');
  assert.ok((r.errors[0]!.line ?? 0) >= 2);
});

void test('several documents in one file are refused', () => {
  const r = parseConfig(`${VALID}---\nname: other\n`);
  assert.equal(r.config, undefined);
  assert.match(r.errors[0]?.message ?? '', /YAML syntax/);
});

void test('anchors and aliases resolve; an alias bomb is refused', () => {
  const text = `name: acme
defaults: &d
  volume_gb: 30
clusters:
  - name: main
    nodes:
      - { name: main-1, role: primary, volume_gb: 40 }
`;
  const r = parseConfig(text);
  assert.deepEqual(r.errors, []);
  assert.equal(r.config?.defaults.volume_gb, 30);
  const bomb =
    'a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n';
  const r2 = parseConfig(bomb);
  assert.equal(r2.config, undefined);
  assert.match(r2.errors[0]?.message ?? '', /alias/i);
});

void test('unknown fields do not hide the semantic problems of the rest', () => {
  const r = parseConfig(
    VALID.replace('name: acme', 'name: acme\ncolour: blue').replace('role: replica', 'role: primary'),
  );
  assert.deepEqual(
    r.errors.map((e) => `${e.line} ${e.path}`),
    ['2 colour', '7 clusters.0.nodes.1.role'],
  );
});

void test('problems are listed in file order', () => {
  const r = parseConfig(`name: Acme
platform: lxc
postgres: { version: 16 }
clusters:
  - name: main
    nodes:
      - { name: main-1, role: primary, upstream: main-1 }
`);
  const lines = r.errors.map((e) => e.line ?? 0);
  assert.deepEqual(
    lines,
    [...lines].sort((a, b) => a - b),
  );
  assert.deepEqual(
    r.errors.map((e) => e.path),
    ['name', 'postgres.version', 'clusters.0.nodes.0.upstream'],
  );
});

void test('a missing required field points at the mapping that lacks it', () => {
  const r = parseConfig(
    'name: acme\nclusters:\n  - name: main\n    nodes:\n      - name: main-1\n        role: primary\n      - name: main-2\n',
  );
  assert.deepEqual(
    r.errors.map((e) => `${e.line}:${e.col} ${e.path}: ${e.message}`),
    ['7:9 clusters.0.nodes.1.role: is required'],
  );
  assert.match(r.errors[0]?.hint ?? '', /"primary", "replica"/);
});

void test('an empty or comment-only file says so', () => {
  for (const text of ['', '# nothing here\n']) {
    const r = parseConfig(text);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]!.message, /empty/);
  }
});
