import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { parseConfig } from '../../model/parse.ts';
import { pgPaths } from '../../components/postgres/paths.ts';
import { nodeUpgradeCommand, packagesProbeCommand, parsePackagesProbe } from './index.ts';

void test('the probe: versions offered (newest first, once each), installed only when fully installed', () => {
  const out = [
    'O\t15.20-0+deb12u1',
    'O\t15.18-0+deb12u1',
    'O\t15.20-0+deb12u1',
    'I\tpostgresql-15\t15.18-0+deb12u1\tii ',
    'I\tlibpq5\t15.20-0+deb12u1\tii ',
    'I\tpostgresql-client-15\t15.18-0+deb12u1\trc ',
  ].join('\n');
  assert.deepEqual(parsePackagesProbe('main-1', out), {
    node: 'main-1',
    offered: ['15.20-0+deb12u1', '15.18-0+deb12u1'],
    installed: { 'postgresql-15': '15.18-0+deb12u1', libpq5: '15.20-0+deb12u1' },
  });
});

void test('the node command: the three server packages pinned, the manager packages newest, a restart unless it runs the version, then the wait', () => {
  const { config } = parseConfig(
    'name: g\nclusters:\n  - name: main\n    nodes:\n      - { name: main-1, role: primary }\n',
  );
  const cmd = nodeUpgradeCommand(pgPaths(15), config!.clusters[0]!, '15.20-0+deb12u1');
  assert.match(
    cmd,
    /install postgresql-15=15\.20-0\+deb12u1 postgresql-client-15=15\.20-0\+deb12u1 libpq5=15\.20-0\+deb12u1 postgresql-15-repmgr repmgr/,
  );
  assert.match(cmd, /SHOW server_version_num.*!= 150020 \]; then systemctl restart postgresql@15-main; fi/);
  assert.match(cmd, /does not run 15\.20 after its restart/);
  // both are valid shell
  for (const script of [cmd, packagesProbeCommand(pgPaths(15))]) execFileSync('bash', ['-n', '-c', script]);
});
