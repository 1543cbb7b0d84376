import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StatusReport } from './index.ts';
import { renderBackupLines } from './cli.ts';

// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

const NOW = new Date('2026-11-22T19:00:00Z');

function report(): StatusReport {
  return {
    group: 'acme',
    primaries: { main: 'main-1' },
    nodes: [],
    backups: [
      {
        cluster: 'main',
        server: 'backup-1',
        mode: 'shared',
        schedule: { cron: '0 2 * * *', text: 'daily at 02:00 UTC', next: '2026-11-23T02:00:00.000Z' },
        retention: 'RECOVERY WINDOW OF 7 DAYS',
        now: {
          retention: 'RECOVERY WINDOW OF 7 DAYS',
          retentionSource: 'server file',
          schedule: '0 2 * * *',
          backups: 3,
          obsolete: 1,
          last: {
            id: '20261122T020000',
            status: 'DONE',
            endTime: '2026-11-22T02:00:30.000Z',
            ageSeconds: 61170,
          },
        },
        differences: [],
      },
      {
        cluster: 'rep',
        server: 'backup-1',
        mode: 'shared',
        schedule: { cron: '0 2 * * *', text: 'daily at 02:00 UTC', next: '2026-11-23T02:00:00.000Z' },
        retention: 'RECOVERY WINDOW OF 7 DAYS',
        unreachable: 'connect timed out',
        differences: [],
      },
    ],
  };
}

void test('a backups line per cluster: last backup, counts, schedule with the next run, retention', () => {
  const lines = renderBackupLines(report(), NOW).map(plain);
  assert.deepEqual(lines, [
    'backups main on backup-1: last 20261122T020000 DONE 17.0 h ago, 3 backups (1 obsolete by the retention policy); ' +
      'schedule 0 2 * * * (daily at 02:00 UTC, next in 7.0 h); retention RECOVERY WINDOW OF 7 DAYS',
    'backups rep on backup-1: backup server did not answer: connect timed out; ' +
      'schedule 0 2 * * * (daily at 02:00 UTC, next in 7.0 h); retention RECOVERY WINDOW OF 7 DAYS',
  ]);
});

void test('differences from config.yml and leftover servers follow, with what to do', () => {
  const r = report();
  r.backups![0]!.differences = [
    'retention: config.yml says REDUNDANCY 4, backup-1 has RECOVERY WINDOW OF 7 DAYS: run tpa deploy',
  ];
  r.backupLeftovers = [{ host: 'backup-1', server: 'old', backups: 2, path: '/var/lib/barman/old' }];
  const lines = renderBackupLines(r, NOW).map(plain);
  assert.equal(
    lines[1],
    '  retention: config.yml says REDUNDANCY 4, backup-1 has RECOVERY WINDOW OF 7 DAYS: run tpa deploy',
  );
  assert.equal(
    lines.at(-1),
    'backup-1 still has barman server old (no cluster uses it there): tpa deploy retires it; its backups stay in /var/lib/barman/old',
  );
  assert.deepEqual(renderBackupLines({ group: 'acme', primaries: {}, nodes: [] }, NOW), []);
});
