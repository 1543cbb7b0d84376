/**
 * The live script runs in a real shell over real files; a stand-in `barman` prints output of
 * barman 3.4's shape (list-backups as recorded in output.test.ts; show-server as its
 * JsonOutputWriter writes it: one object per server with its configuration and status keys).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MANAGED_HEADER, renderCronFile } from './conf.ts';
import { liveScript, parseLive, parseShowServerRetention, type LivePaths } from './live.ts';

const LIST = `{"main": [{"backup_id": "20261122T162750", "end_time": "Sun Nov 22 16:27:56 2026", "end_time_timestamp": "1795364876", "retention_status": "-", "size": "38.2 MiB", "size_bytes": 40091988, "status": "DONE", "tablespaces": [], "wal_size": "0 B", "wal_size_bytes": 0}, {"backup_id": "20261101T020000", "end_time": "Sun Nov  1 02:00:06 2026", "end_time_timestamp": "1793498406", "retention_status": "OBSOLETE", "size": "38.0 MiB", "size_bytes": 39845888, "status": "DONE", "tablespaces": [], "wal_size": "16.0 MiB", "wal_size_bytes": 16777216}]}`;
const SHOW = `{"main": {"active": true, "archiver": false, "backup_method": "postgres", "description": "cluster main of group acme", "retention_policy": "RECOVERY WINDOW OF 7 DAYS", "retention_policy_mode": "auto", "streaming_archiver": true, "wal_retention_policy": "main", "server_txt_version": "15.20"}}`;

async function fixture() {
  const home = await mkdtemp(join(tmpdir(), 'tpa-live-'));
  const confDir = join(home, 'etc');
  await mkdir(confDir);
  const fake = join(home, 'barman');
  await writeFile(
    fake,
    [
      '#!/bin/sh',
      // -f json <command> <server>
      `case "$3" in list-backups) cat '${home}/list.json' ;; show-server) cat '${home}/show.json' ;; esac`,
      '',
    ].join('\n'),
  );
  await chmod(fake, 0o755);
  await writeFile(join(home, 'list.json'), LIST);
  await writeFile(join(home, 'show.json'), SHOW);
  const paths: LivePaths = {
    confDir,
    barmanHome: home,
    cronFile: join(home, 'tpa-barman'),
    barmanJson: (args) => `'${fake}' -f json ${args.join(' ')}`,
  };
  return { home, confDir, paths };
}

function run(cmd: string): string {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

void test('a configured server: retention in its file, its cron schedule, its backups, barman own view', async () => {
  const f = await fixture();
  try {
    await writeFile(
      join(f.confDir, 'main.conf'),
      `${MANAGED_HEADER}[main]\nretention_policy = RECOVERY WINDOW OF 7 DAYS\nretention_policy_mode = auto\n`,
    );
    await writeFile(join(f.confDir, 'old.conf'), `${MANAGED_HEADER}[old]\n`);
    await writeFile(f.paths.cronFile, renderCronFile('0  2 * * *', ['main', 'mainly'], ['* * * * * root x']));
    const servers = ['main', 'other'];
    const live = parseLive(run(liveScript(servers, { showServer: true }, f.paths)), servers);
    const [main, other] = live.servers;
    assert.equal(main!.configured, true);
    assert.equal(main!.confRetention, 'RECOVERY WINDOW OF 7 DAYS');
    assert.equal(main!.barmanRetention, 'RECOVERY WINDOW OF 7 DAYS');
    assert.equal(main!.cronSchedule, '0 2 * * *');
    assert.deepEqual(
      main!.backups!.map((b) => [b.id, b.status, b.retentionStatus]),
      [
        ['20261122T162750', 'DONE', '-'],
        ['20261101T020000', 'DONE', 'OBSOLETE'],
      ],
    );
    assert.deepEqual(main!.errors, []);
    // no file, no cron line: barman is not asked
    assert.deepEqual(other, { server: 'other', configured: false, errors: [] });
    assert.deepEqual(
      live.managed.map((m) => m.server),
      ['main', 'old'],
    );
  } finally {
    await rm(f.home, { recursive: true, force: true });
  }
});

void test('without showServer barman show-server is not run; unreadable output becomes an error', async () => {
  const f = await fixture();
  try {
    await writeFile(
      join(f.confDir, 'main.conf'),
      `${MANAGED_HEADER}[main]\nretention_policy = REDUNDANCY 3\n`,
    );
    await writeFile(join(f.home, 'list.json'), 'Traceback (most recent call last):');
    const out = run(liveScript(['main'], {}, f.paths));
    const [main] = parseLive(out, ['main']).servers;
    assert.equal(main!.confRetention, 'REDUNDANCY 3');
    assert.equal(main!.barmanRetention, undefined);
    assert.equal(main!.cronSchedule, undefined);
    assert.equal(main!.backups, undefined);
    assert.match(main!.errors.join(), /not JSON/);
  } finally {
    await rm(f.home, { recursive: true, force: true });
  }
});

void test('show-server: the retention policy, or why there is none', () => {
  assert.equal(parseShowServerRetention(SHOW, 'main'), 'RECOVERY WINDOW OF 7 DAYS');
  assert.throws(() => parseShowServerRetention(SHOW, 'other'), /no entry for server other/);
  assert.throws(() => parseShowServerRetention(`{"_ERROR": ["Unknown server 'x'"]}`, 'x'), /Unknown server/);
  assert.throws(() => parseShowServerRetention('', 'main'), /not JSON/);
});
