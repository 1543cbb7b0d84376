import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pgPaths } from '../../../components/postgres/paths.ts';
import { ED25519_KEY } from '../../../model/testdata/fixtures.ts';
import { buildNewConfig, renderConfigYaml } from '../../../model/new-config.ts';
import { parseConfig } from '../../../model/parse.ts';
import { isBackedUp } from '../../../model/backup.ts';
import {
  addDrillCluster,
  checksumsScript,
  countMarkerScript,
  DRILL_NAME,
  drillClusterName,
  drillNodeName,
  leftoverText,
  parseChecksums,
  passDetail,
  removeDrillCluster,
  writeMarkerScript,
} from './plan.ts';

/** a config.yml as tpa configure writes it, then edited by hand: a second cluster, comments */
function configText(): string {
  const text = renderConfigYaml(
    buildNewConfig({
      groupName: 'acme',
      clusterName: 'main',
      architecture: 'M1',
      platform: 'lxc',
      replicas: 1,
      failoverManager: 'repmgr',
      pooler: 'pgbouncer',
      durability: 'async',
      backup: 'shared',
      clientCidrs: ['203.0.113.0/24'],
      sshKeys: [`${ED25519_KEY} and a long comment that goes on and on past eighty columns of text`],
      addresses: [],
    }),
    '/opt/tpa/schema/config.schema.json',
  );
  return text.replace(
    /\n\n# Shared services/,
    [
      '',
      '  # reporting, fed nightly',
      '  - name: reports',
      '    backup_server: backup-1',
      '    nodes:',
      '      - { name: reports-1, role: primary, instance_type: medium, volume_gb: 50 }   # big',
      '',
      '# Shared services',
    ].join('\n'),
  );
}

void test('drill cluster names: <source>-drill-<4 hex>, unused, a host name even for long sources', () => {
  const hex = ['3fa2', 'beef', '0001'];
  const next = () => hex.shift()!;
  assert.equal(drillClusterName('reports', new Set(), next), 'reports-drill-3fa2');
  // a name or its node taken: another suffix
  assert.equal(
    drillClusterName('main', new Set(['main-drill-beef', 'x']), () => (hex.length ? next() : '0002')),
    'main-drill-0001',
  );
  assert.equal(drillNodeName('main-drill-0001'), 'main-drill-0001-1');
  const long = drillClusterName(`${'a'.repeat(40)}-${'b'.repeat(30)}`, new Set(), () => 'c0de');
  assert.ok(drillNodeName(long).length <= 63, long);
  assert.match(long, DRILL_NAME);
  assert.match(drillNodeName(long), /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
  // a source shortened onto a dash does not make a double dash
  assert.equal(
    drillClusterName(`${'a'.repeat(49)}-bc`, new Set(), () => 'c0de'),
    `${'a'.repeat(49)}-drill-c0de`,
  );
  const random = drillClusterName('reports', new Set());
  assert.match(random, /^reports-drill-[0-9a-f]{4}$/);
});

void test('adding the drill cluster: one primary sized like the source, no failover manager, pooler or backups', () => {
  const original = configText();
  const before = parseConfig(original);
  assert.deepEqual(before.errors, []);
  const written = addDrillCluster(original, { name: 'reports-drill-3fa2', source: 'reports' });
  const parsed = parseConfig(written);
  assert.deepEqual(parsed.errors, [], JSON.stringify(parsed.errors));
  const config = parsed.config!;
  const drill = config.clusters.find((c) => c.name === 'reports-drill-3fa2')!;
  assert.equal(drill.failover_manager, 'none');
  assert.equal(drill.pooler, 'none');
  assert.equal(drill.backups, false);
  assert.equal(isBackedUp(config, drill), false);
  assert.deepEqual(drill.nodes, [
    { name: 'reports-drill-3fa2-1', role: 'primary', instance_type: 'medium', volume_gb: 50 },
  ]);
  // everything else is as it was
  assert.deepEqual(
    config.clusters.filter((c) => c !== drill),
    before.config!.clusters,
  );
  assert.deepEqual({ ...config, clusters: [] }, { ...before.config!, clusters: [] });
  assert.match(written, /# temporary: tpa test --restore-drill of reports; removed when the drill ends/);
  // the source's comments survive
  assert.match(written, /# reporting, fed nightly/);
  assert.match(written, /# big/);
});

void test('add then remove leaves config.yml byte-identical', () => {
  const original = configText();
  const written = addDrillCluster(original, { name: 'reports-drill-3fa2', source: 'reports' });
  assert.notEqual(written, original);
  assert.equal(removeDrillCluster(written, 'reports-drill-3fa2', { original, written }), original);
  // every line of the file before is still there, unchanged, in order; the cluster is appended to the list
  const lines = written.split('\n');
  let at = 0;
  for (const l of original.split('\n')) {
    at = lines.indexOf(l, at);
    assert.ok(at >= 0, `line kept: ${l}`);
    at++;
  }
  assert.match(
    written,
    /big\n {2}# temporary: .*\n {2}- name: reports-drill-3fa2\n {4}failover_manager: none\n {4}pooler: none\n {4}backups: false\n {4}nodes:\n {6}- \{ name: reports-drill-3fa2-1, role: primary, instance_type: medium, volume_gb: 50 \}\n\n# Shared services/,
  );
  // a source without size overrides
  const main = addDrillCluster(original, { name: 'main-drill-0001', source: 'main' });
  assert.equal(removeDrillCluster(main, 'main-drill-0001', { original, written: main }), original);
  assert.deepEqual(parseConfig(main).config!.clusters.at(-1)!.nodes, [
    { name: 'main-drill-0001-1', role: 'primary' },
  ]);
  // without the text from before: the entry is taken out of the parsed file (same content)
  const parsed = (t: string) => JSON.stringify(parseConfig(t).config);
  assert.equal(parsed(removeDrillCluster(written, 'reports-drill-3fa2')), parsed(original));
  // a flow-style list of clusters is edited as a document
  const flow = 'name: acme\nclusters: [{ name: c, nodes: [{ name: c-1, role: primary }] }]\n';
  const flowAdded = addDrillCluster(flow, { name: 'c-drill-0001', source: 'c' });
  assert.deepEqual(
    parseConfig(flowAdded).config!.clusters.map((c) => c.name),
    ['c', 'c-drill-0001'],
  );
  assert.equal(removeDrillCluster(flowAdded, 'c-drill-0001', { original: flow, written: flowAdded }), flow);
});

void test('remove after someone edited config.yml during the drill: only the drill cluster goes', () => {
  const original = configText();
  const written = addDrillCluster(original, { name: 'reports-drill-3fa2', source: 'reports' });
  const edited = written.replace('RECOVERY WINDOW OF 7 DAYS', 'RECOVERY WINDOW OF 9 DAYS');
  assert.notEqual(edited, written);
  const out = removeDrillCluster(edited, 'reports-drill-3fa2', { original, written });
  assert.equal(out, original.replace('RECOVERY WINDOW OF 7 DAYS', 'RECOVERY WINDOW OF 9 DAYS'));
  // not there (already removed): unchanged
  assert.equal(removeDrillCluster(original, 'reports-drill-3fa2'), original);
});

void test('scripts: marker written on the primary and counted on the restored node; checksums with the server down', () => {
  const w = writeMarkerScript('m-abc-123');
  assert.match(w, /CREATE TABLE IF NOT EXISTS tpa_test\.markers/);
  assert.match(w, /INSERT INTO tpa_test\.markers \(id, via\) VALUES \(.+m-abc-123.+restore-drill.+\)/);
  assert.match(
    countMarkerScript('m-abc-123'),
    /SELECT count\(\*\) FROM tpa_test\.markers WHERE id = .+m-abc-123/,
  );
  assert.throws(() => countMarkerScript("x'; DROP TABLE y; --"));
  const c = checksumsScript(pgPaths(15));
  assert.ok(c.indexOf('systemctl stop postgresql@15-main') < c.indexOf('pg_checksums --check'));
  assert.match(
    c,
    /\/usr\/lib\/postgresql\/15\/bin\/pg_checksums --check -D '?\/var\/lib\/postgresql\/15\/main'?/,
  );
});

void test("pg_checksums's report: files and blocks when every checksum is right, why not otherwise", () => {
  const good = [
    'Checksum operation completed',
    'Files scanned:   946',
    'Blocks scanned:  2825',
    'Bad checksums:  0',
    'Data checksum version: 1',
    '',
  ].join('\n');
  assert.deepEqual(parseChecksums(good, 0), { ok: true, files: 946, blocks: 2825 });
  const bad = [
    'pg_checksums: error: checksum verification failed in file "base/5/16384", block 0: calculated checksum 1A2B but block contains 3C4D',
    'Checksum operation completed',
    'Files scanned:   946',
    'Blocks scanned:  2825',
    'Bad checksums:  1',
    'Data checksum version: 1',
  ].join('\n');
  const b = parseChecksums(bad, 1);
  assert.equal(b.ok, false);
  assert.match(!b.ok ? b.why : '', /1 bad checksums/);
  const off = parseChecksums('pg_checksums: error: data checksums are not enabled in cluster\n', 1);
  assert.deepEqual(off, { ok: false, why: 'data checksums are not enabled in the restored cluster' });
  const gone = parseChecksums('pg_checksums: error: could not open directory "x": No such file\n', 1);
  assert.equal(gone.ok, false);
  assert.match(!gone.ok ? gone.why : '', /exit 1.*could not open directory/);
  assert.equal(parseChecksums(good, 1).ok, false);
  assert.equal(parseChecksums(good.replace('946', '0'), 0).ok, false);
});

void test('what the report says: the evidence on success, what is left and how to remove it on a failed cleanup', () => {
  assert.equal(
    passDetail({
      backup: '20260522T140301',
      node: 'reports-drill-3fa2-1',
      marker: 'm-x-1',
      files: 946,
      blocks: 2825,
      seconds: 94.24,
    }),
    'backup 20260522T140301 restored into reports-drill-3fa2-1: marker m-x-1 found, checksums verified in 946 files (2825 blocks); 94.2 s, temporary cluster removed',
  );
  const inConfig = leftoverText({
    dir: '/srv/acme',
    cluster: 'reports-drill-3fa2',
    node: 'reports-drill-3fa2-1',
    platform: 'lxc',
    machine: 'tpa-abcdef-reports-drill-3fa2-1',
    inConfig: true,
  });
  assert.match(inConfig, /cluster reports-drill-3fa2 in config\.yml/);
  assert.match(
    inConfig,
    /delete the cluster reports-drill-3fa2 .* \/srv\/acme\/config\.yml, then run tpa provision \/srv\/acme/,
  );
  const machineOnly = leftoverText({
    dir: '/srv/acme',
    cluster: 'reports-drill-3fa2',
    node: 'reports-drill-3fa2-1',
    platform: 'lxc',
    machine: 'tpa-abcdef-reports-drill-3fa2-1',
    inConfig: false,
  });
  assert.match(machineOnly, /no longer in config\.yml; run tpa provision \/srv\/acme again/);
  assert.match(machineOnly, /lxc-destroy -n tpa-abcdef-reports-drill-3fa2-1/);
  assert.doesNotMatch(
    leftoverText({
      dir: '/d',
      cluster: 'c',
      node: 'c-1',
      platform: 'aws',
      machine: 'i-123',
      inConfig: false,
    }),
    /lxc/,
  );
});
