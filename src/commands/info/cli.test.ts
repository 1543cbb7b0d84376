import assert from 'node:assert/strict';
import { test } from 'node:test';
import { config, healthyObservations, inventory } from '../../../test/support/checks-fixtures.ts';
import { buildInfo, connectionStrings } from './index.ts';
import { renderInfoMarkdown } from './cli.ts';

function info(password?: string) {
  const obs = healthyObservations();
  obs['main-1']!.packages = { 'postgresql-15': '15.20-0+deb12u1', pgbouncer: '1.18.0-1', debian: '12.12' };
  obs['main-2']!.packages = { 'postgresql-15': '15.20-0+deb12u1', debian: '12.12' };
  return buildInfo(
    {
      config: config(),
      inventory: inventory(),
      observations: obs,
      unreachable: { 'main-3': 'connect timed out' },
    },
    {
      dir: 'acme',
      keyFiles: { 'main-1': '/root/.cache/tpa/acme-1/id_ed25519' },
      caFile: '/srv/acme/tls/ca.crt',
      ...(password !== undefined ? { password } : {}),
    },
  );
}

void test('connection strings: read-write through every pgbouncer, read-only on each replica', () => {
  const c = connectionStrings(config(), inventory());
  assert.deepEqual(
    c.map((x) => `${x.kind} ${x.uri}`),
    [
      'read-write (pgbouncer) postgresql://postgres@10.0.3.11:6432/postgres?sslmode=require',
      'read-write (pgbouncer) postgresql://postgres@10.0.3.12:6432/postgres?sslmode=require',
      'read-write (pgbouncer) postgresql://postgres@10.0.3.13:6432/postgres?sslmode=require',
      'read-only (replica) postgresql://postgres@10.0.3.12:5432/postgres?sslmode=require',
      'read-only (replica) postgresql://postgres@10.0.3.13:5432/postgres?sslmode=require',
    ],
  );
});

void test('the hand-over sheet lists machines, access, versions; the password only when asked', () => {
  const md = renderInfoMarkdown(info());
  assert.match(md, /^# Cluster group acme$/m);
  assert.match(md, /\| main-3 \| main \| replica of main-2 \(now: unreachable\) \| 10\.0\.3\.13 \|/);
  assert.match(md, /`postgresql:\/\/postgres@10\.0\.3\.12:6432\/postgres\?sslmode=require`/);
  assert.match(md, /CA certificate: `\/srv\/acme\/tls\/ca\.crt`/);
  assert.match(
    md,
    /\| main-1 \| root@10\.0\.3\.11:22 \| `\/root\/\.cache\/tpa\/acme-1\/id_ed25519` \| `tpa ssh acme main-1` \|/,
  );
  // versions: a column per host; - when not installed, ? when the host did not answer
  assert.match(md, /\| debian \| 12\.12 \| 12\.12 \| \? \|/);
  assert.match(md, /\| pgbouncer \| 1\.18\.0-1 \| - \| \? \|/);
  assert.match(md, /main-3 did not answer: connect timed out/);
  assert.match(md, /Password of `postgres`: hidden/);
  assert.match(md, /tpa 0\.\d+\.\d+/);

  const shown = renderInfoMarkdown(info('S3cret-pass'));
  assert.match(shown, /Password of `postgres`: `S3cret-pass`/);
  assert.doesNotMatch(md, /S3cret-pass/);
});

void test('backups: per cluster as configured and as the backup server has it, differences with what to do', () => {
  const base = info();
  const withBackups = {
    ...base,
    backup: { mode: 'shared', schedule: '30 3 * * *', retention: 'RECOVERY WINDOW OF 14 DAYS' },
    backups: [
      {
        cluster: 'main',
        server: 'backup-1',
        mode: 'shared' as const,
        schedule: { cron: '30 3 * * *', text: 'daily at 03:30 UTC', next: '2026-11-23T03:30:00.000Z' },
        retention: 'RECOVERY WINDOW OF 14 DAYS',
        now: {
          retention: 'RECOVERY WINDOW OF 7 DAYS',
          retentionSource: 'barman show-server' as const,
          schedule: '0 2 * * *',
          backups: 2,
        },
        differences: [
          'retention: config.yml says RECOVERY WINDOW OF 14 DAYS, backup-1 has RECOVERY WINDOW OF 7 DAYS: run tpa deploy',
        ],
      },
    ],
    backupLeftovers: [{ host: 'backup-1', server: 'old', backups: 3, path: '/var/lib/barman/old' }],
  };
  const md = renderInfoMarkdown(withBackups);
  assert.match(
    md,
    /^- backups: shared, schedule `30 3 \* \* \*` \(daily at 03:30 UTC\), retention RECOVERY WINDOW OF 14 DAYS$/m,
  );
  assert.match(md, /^## Backups$/m);
  assert.match(
    md,
    /^\| main \| backup-1 \| shared \| `30 3 \* \* \*` \(daily at 03:30 UTC\) \| 2026-11-23 03:30 UTC \| RECOVERY WINDOW OF 14 DAYS \| retention RECOVERY WINDOW OF 7 DAYS, schedule `0 2 \* \* \*`, 2 backups \|$/m,
  );
  assert.match(
    md,
    /^- main: retention: config\.yml says RECOVERY WINDOW OF 14 DAYS, backup-1 has RECOVERY WINDOW OF 7 DAYS: run tpa deploy$/m,
  );
  assert.match(md, /backup-1 still has barman server old.*its 3 backup\(s\) stay in \/var\/lib\/barman\/old/);
  // no backups: no section
  assert.doesNotMatch(renderInfoMarkdown(base), /## Backups/);
});
