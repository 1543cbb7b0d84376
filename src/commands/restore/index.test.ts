import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { parseConfig } from '../../model/parse.ts';
import { validInput } from '../../model/testdata/fixtures.ts';
import { withRestoredCluster } from './index.ts';

function group(mode: 'shared' | 'exclusive'): string {
  const input = validInput();
  input.backup = { mode };
  input.clusters[0]!.backup_server = 'backup-1';
  return `# acme, as its owner wrote it\n${stringify(input)}`;
}

function restoredInto(text: string) {
  const { config, errors } = parseConfig(text, 'config.yml');
  assert.deepEqual(errors, []);
  const out = withRestoredCluster(text, config!, {
    source: 'main',
    into: 'pitr',
    nodes: ['pitr-1', 'pitr-2'],
    server: 'backup-1',
  });
  const after = parseConfig(out, 'config.yml');
  return { out, ...after };
}

void test('restore --into, shared backups: the new cluster is backed up by the same barman server', () => {
  const { out, config, errors } = restoredInto(group('shared'));
  assert.deepEqual(errors, []);
  const pitr = config!.clusters.find((c) => c.name === 'pitr')!;
  assert.equal(pitr.backup_server, 'backup-1');
  assert.deepEqual(
    pitr.nodes.map((n) => [n.name, n.role]),
    [
      ['pitr-1', 'primary'],
      ['pitr-2', 'replica'],
    ],
  );
  assert.deepEqual(
    config!.services.map((s) => s.name),
    ['backup-1'],
  );
  assert.match(out, /^# acme, as its owner wrote it\n/);
});

void test('restore --into, exclusive backups: the new cluster gets a barman service of its own and the result is valid', () => {
  const { config, errors } = restoredInto(group('exclusive'));
  assert.deepEqual(errors, [], 'the edited config.yml validates');
  assert.equal(config!.clusters.find((c) => c.name === 'pitr')!.backup_server, 'pitr-barman');
  assert.deepEqual(
    config!.services.map((s) => [s.name, s.role]),
    [
      ['backup-1', 'barman'],
      ['pitr-barman', 'barman'],
    ],
  );
});
