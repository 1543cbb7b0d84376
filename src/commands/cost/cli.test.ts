import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const tpa = resolve(import.meta.dirname, '../../../bin/tpa');
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tpa-cost-cli-'));
  await mkdir(join(root, 'acme'));
  await writeFile(
    join(root, 'acme', 'config.yml'),
    `name: acme
platform: aws
defaults: { instance_type: t3.medium, volume_gb: 20 }
clusters:
  - name: main
    nodes:
      - { name: main-1, role: primary }
      - { name: main-2, role: replica }
`,
  );
});
after(() => rm(root, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(tpa, args, { env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

void test('tpa cost prints a table per host, the cluster and group totals, and where prices come from', () => {
  const r = run(['cost', join(root, 'acme')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /main-1 .* main .* primary .* t3\.medium .* 20 GB .* \$\d+\.\d\d/);
  assert.match(r.stdout, /cluster main: \$\d+\.\d\d a month/);
  assert.match(r.stdout, /group acme: \$\d+\.\d\d a month/);
  assert.match(r.stdout, /note: AWS on-demand list prices of [a-z0-9-]+ taken \d{4}-\d\d-\d\d/);
  const j = run(['cost', join(root, 'acme'), '--json']);
  const est = JSON.parse(j.stdout) as {
    total: number;
    clusters: { monthly: number }[];
    hosts: { monthly: number }[];
  };
  assert.equal(est.hosts.length, 2);
  assert.equal(est.total, est.clusters[0]?.monthly);
  assert.ok(est.total > 0);
  assert.ok(r.stdout.includes(`group acme: $${est.total.toFixed(2)} a month`));
});

void test('tpa cost on an invalid config exits 2 with the problems', async () => {
  await mkdir(join(root, 'bad'));
  await writeFile(join(root, 'bad', 'config.yml'), 'name: bad\nplatform: aws\nclusters: []\n');
  const r = run(['cost', join(root, 'bad')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /config\.yml:3:1 clusters: needs at least 1 item/);
});
