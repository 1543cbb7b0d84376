import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pgPaths } from '../../postgres/paths.ts';
import { nodeConninfo } from './conf.ts';
import {
  cloneCommand,
  clusterShowCheck,
  dataDirProbeCommand,
  nodeRecordProbeCommand,
  parseDataDirProbe,
  parseNodeRecord,
  primaryRegisterCommand,
  renderEventScript,
  standbyRegisterCommand,
  startStandbyCommand,
  unitStateProbeCommand,
} from './scripts.ts';
import { shellProblems } from '../../../../test/support/repmgr-fixtures.ts';

const p = pgPaths(15);

void test('every command and script is valid sh (sh -n, shellcheck when installed)', () => {
  const scripts: Record<string, string> = {
    event: renderEventScript(),
    clone: cloneCommand({ paths: p, upstreamAddress: '10.0.3.11', upstreamNodeId: 1 }),
    primaryRegister: primaryRegisterCommand(p, 1, nodeConninfo('10.0.3.11')),
    standbyRegister: standbyRegisterCommand(p, 2, 1, nodeConninfo('10.0.3.12')),
    nodeProbe: nodeRecordProbeCommand(2),
    dataDirProbe: dataDirProbeCommand(p),
    clusterShow: clusterShowCheck(p, 3),
    startStandby: startStandbyCommand(p),
    unitProbe: unitStateProbeCommand(p),
  };
  for (const [name, script] of Object.entries(scripts)) {
    const text = script.startsWith('#!') ? script : `#!/bin/sh\n${script}\n`;
    assert.deepEqual(shellProblems(text), [], name);
  }
});

void test('the clone refuses a data directory of this cluster and never passes a password', () => {
  const c = cloneCommand({ paths: p, upstreamAddress: '10.0.3.12', upstreamNodeId: 2 });
  assert.match(c, /if \[ -f \/var\/lib\/postgresql\/15\/main\/standby.signal \]; then .*exit 0; fi/);
  assert.match(c, /if \[ "\$my_sysid" = "\$up_sysid" \]; then\n.*refusing to clone/);
  assert.match(c, /refusing to clone: the running server on this node holds databases/);
  assert.match(c, /standby clone --upstream-node-id=2 --fast-checkpoint --force/);
  assert.match(c, /-d 'host=10\.0\.3\.12 port=5432 user=repmgr dbname=repmgr/);
  assert.doesNotMatch(c, /password/i);
  // the clone happens while the server is stopped; the unit is started afterwards
  assert.ok(c.indexOf('systemctl stop') < c.indexOf('standby clone'));
  assert.ok(c.indexOf('standby clone') < c.indexOf('systemctl start'));
});

void test('probe outputs are parsed', () => {
  assert.deepEqual(parseDataDirProbe('pg_version=15 standby_signal=1 sysid=7312'), {
    pgVersion: '15',
    standbySignal: true,
    systemId: '7312',
  });
  assert.deepEqual(parseDataDirProbe('pg_version= standby_signal=0 sysid='), {
    pgVersion: '',
    standbySignal: false,
    systemId: '',
  });
  assert.equal(parseDataDirProbe(''), undefined);
  assert.deepEqual(parseNodeRecord('standby|1|t'), { type: 'standby', upstreamNodeId: 1, active: true });
  assert.deepEqual(parseNodeRecord('primary||t'), { type: 'primary', active: true });
  assert.equal(parseNodeRecord(''), undefined);
  assert.equal(parseNodeRecord('psql: error: connection to server failed'), undefined);
});

void test('the probes report a missing data directory and a missing repmgr database as such', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-probe-'));
  try {
    const probe = dataDirProbeCommand({ ...p, dataDir: join(dir, 'main'), binDir: join(dir, 'bin') });
    const r = spawnSync('sh', ['-c', probe], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(parseDataDirProbe(r.stdout), { pgVersion: '', standbySignal: false, systemId: '' });
    const rec = spawnSync('/bin/sh', ['-c', nodeRecordProbeCommand(1)], {
      encoding: 'utf8',
      env: { PATH: '/nonexistent' },
    });
    assert.equal(rec.status, 0, 'the probe never fails the fact gathering');
    assert.equal(parseNodeRecord(rec.stdout), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('the event script logs every event and runs the follower after promote and follow events', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-event-'));
  try {
    const script = join(dir, 'repmgr-event.sh');
    const follower = join(dir, 'follow.sh');
    const log = join(dir, 'events.log');
    const calls = join(dir, 'calls');
    writeFileSync(script, renderEventScript());
    writeFileSync(follower, `#!/bin/sh\nprintf '%s\\n' "$*" >>${calls}\necho "route changed"\n`);
    chmodSync(script, 0o755);
    chmodSync(follower, 0o755);
    const env = { ...process.env, TPA_REPMGR_EVENT_LOG: log, TPA_PGBOUNCER_FOLLOW: follower };
    const run = (...args: string[]) => {
      const r = spawnSync(script, args, { encoding: 'utf8', env });
      assert.equal(r.status, 0, r.stderr);
    };
    run('2', 'standby_register', '1', '2026-01-01 10:00:00+00', 'standby registration succeeded');
    assert.throws(() => readFileSync(calls), /ENOENT/, 'a registration moves no primary');
    run('2', 'repmgrd_failover_promote', '1', '2026-01-01 10:05:00+00', 'node "main-2" (ID: 2)\npromoted');
    // the follower runs in the background: wait for it
    for (let i = 0; i < 50 && !existsSync(calls); i++) spawnSync('sleep', ['0.1']);
    assert.equal(
      readFileSync(calls, 'utf8'),
      '--reason repmgr event repmgrd_failover_promote on node 2 --promoted-here\n',
    );
    spawnSync('sleep', ['0.2']);
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    assert.deepEqual(lines, [
      '2026-01-01 10:00:00+00\tnode=2\tevent=standby_register\tsuccess=1\tstandby registration succeeded',
      '2026-01-01 10:05:00+00\tnode=2\tevent=repmgrd_failover_promote\tsuccess=1\tnode "main-2" (ID: 2) promoted',
      'route changed',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a replica that is not a standby is never started (a former primary would be a second primary)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-start-'));
  try {
    const data = join(dir, 'main');
    const cmd = startStandbyCommand({
      ...p,
      dataDir: data,
      standbySignal: join(data, 'standby.signal'),
      service: 'tpa-test-none',
    });
    const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /refusing to start tpa-test-none: .* is not a standby/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
