import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import {
  markerInsertSql,
  newMarkerId,
  parseReplicaMarkers,
  primaryMarkerScript,
  replicaMarkerScript,
} from './markers.ts';

function syntaxOk(script: string): void {
  for (const sh of ['dash', 'bash']) {
    const r = spawnSync(sh, ['-n'], { input: script, encoding: 'utf8' });
    assert.equal(r.status, 0, `${sh}: ${r.stderr}`);
  }
}

void test('marker ids are unique and safe to put in SQL', () => {
  const ids = new Set(Array.from({ length: 200 }, () => newMarkerId()));
  assert.equal(ids.size, 200);
  for (const id of ids) assert.match(id, /^m-[a-z0-9]+-[0-9a-f]{12}$/);
});

void test('marker SQL refuses ids and sources that could break out of a literal', () => {
  assert.equal(
    markerInsertSql('m-1', 'pgbouncer@10.0.3.11'),
    "INSERT INTO tpa_test.markers (id, via) VALUES ('m-1', 'pgbouncer@10.0.3.11')",
  );
  assert.throws(() => markerInsertSql("m-1'; DROP TABLE x; --", 'primary'));
  assert.throws(() => markerInsertSql('m-1', "x'"));
  assert.throws(() => replicaMarkerScript(["m'"], 1000));
});

void test('the primary and replica scripts are valid sh (a subshell inside $( ) is not arithmetic)', () => {
  syntaxOk(primaryMarkerScript('m-abc'));
  const s = replicaMarkerScript(['m-a', 'm-b', 'm-c'], 30_000);
  syntaxOk(s);
  assert.doesNotMatch(s, /\$\(\(cd/);
  assert.match(s, /-ge 3 \]/);
  assert.match(s, /30000 \* 1000000/);
});

void test('the replica script waits until every marker is there or time is up', () => {
  // run it for real with a stand-in psql that "finds" the markers one more per call
  const dir = spawnSync('mktemp', ['-d'], { encoding: 'utf8' }).stdout.trim();
  const fake = `#!/bin/sh\nn=$(cat ${dir}/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${dir}/n\nfor i in $(seq 1 $n); do [ $i -le 2 ] && echo m-$i; done\n`;
  spawnSync('sh', ['-c', `cat > ${dir}/runuser && chmod +x ${dir}/runuser`], { input: fake });
  const run = (ids: string[], ms: number) =>
    spawnSync('sh', ['-c', replicaMarkerScript(ids, ms)], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
  let r = run(['m-1', 'm-2'], 10_000);
  const found = parseReplicaMarkers(r.stdout);
  assert.deepEqual(found?.found, ['m-1', 'm-2'], r.stdout + r.stderr);
  assert.ok(found.waitedMs >= 150 && found.waitedMs < 5000, String(found.waitedMs));

  spawnSync('rm', ['-f', `${dir}/n`]);
  r = run(['m-1', 'm-2', 'm-9'], 700);
  const partial = parseReplicaMarkers(r.stdout);
  assert.deepEqual(partial?.found, ['m-1', 'm-2']);
  assert.ok(partial.waitedMs >= 700, String(partial.waitedMs));
  spawnSync('rm', ['-rf', dir]);
});

void test('replica answers are parsed; anything else is not', () => {
  assert.deepEqual(parseReplicaMarkers('found 2 340\nm-1\nm-2\n'), { found: ['m-1', 'm-2'], waitedMs: 340 });
  assert.deepEqual(parseReplicaMarkers('found 0 30012\n\n'), { found: [], waitedMs: 30012 });
  assert.equal(parseReplicaMarkers('sh: syntax error'), undefined);
});
