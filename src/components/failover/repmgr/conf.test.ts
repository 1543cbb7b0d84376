import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pgPaths } from '../../postgres/paths.ts';
import { renderRepmgrConf, renderRepmgrdUnit, renderSudoers } from './conf.ts';
import { hasCommand, sampleConfig } from '../../../../test/support/repmgr-fixtures.ts';

const p = pgPaths(15);
const cluster = sampleConfig().clusters[0]!;

/** repmgr.conf as key -> raw value */
function parse(conf: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of conf.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-z_]+)=(.*)$/.exec(line);
    assert.ok(m, `not a key=value line: ${line}`);
    assert.ok(!out.has(m[1]!), `duplicate key ${m[1]}`);
    out.set(m[1]!, m[2]!);
  }
  return out;
}

void test('repmgr.conf: identity, TCP conninfo without password, automatic failover', () => {
  const conf = parse(renderRepmgrConf({ cluster, nodeName: 'main-2', address: '10.0.3.12', paths: p }));
  assert.equal(conf.get('node_id'), '2');
  assert.equal(conf.get('node_name'), "'main-2'");
  assert.equal(
    conf.get('conninfo'),
    "'host=10.0.3.12 port=5432 user=repmgr dbname=repmgr connect_timeout=2 sslmode=require keepalives=1 keepalives_idle=1 keepalives_interval=1 keepalives_count=2 tcp_user_timeout=2000'",
  );
  assert.doesNotMatch(conf.get('conninfo')!, /password/);
  assert.equal(conf.get('data_directory'), "'/var/lib/postgresql/15/main'");
  assert.equal(conf.get('replication_user'), "'replicator'");
  assert.equal(conf.get('use_replication_slots'), 'yes');
  assert.equal(conf.get('failover'), "'automatic'");
  assert.equal(conf.get('priority'), '99');
  // timing.ts: promotion 9-10 s after the primary drops off the network
  assert.equal(conf.get('monitor_interval_secs'), '1');
  assert.equal(conf.get('reconnect_attempts'), '2');
  assert.equal(conf.get('reconnect_interval'), '3');
  assert.equal(conf.get('connection_check_type'), "'ping'");
  // the fence of a cut-off primary
  assert.equal(conf.get('child_nodes_check_interval'), '1');
  assert.equal(conf.get('child_nodes_connected_min_count'), '1');
  assert.equal(conf.get('child_nodes_disconnect_timeout'), '0');
  assert.equal(conf.get('child_nodes_disconnect_command'), "'/usr/local/lib/tpa/postgres-fence-now.sh %p'");
  assert.equal(conf.get('monitoring_history'), 'no');
  assert.match(
    conf.get('promote_command')!,
    /^'\/usr\/lib\/postgresql\/15\/bin\/repmgr standby promote -f \/etc\/repmgr.conf/,
  );
  assert.match(conf.get('follow_command')!, /standby follow .*--upstream-node-id=%n'$/);
  assert.equal(
    conf.get('service_restart_command'),
    "'sudo -n /usr/bin/systemctl restart postgresql@15-main'",
  );
  assert.equal(
    conf.get('event_notification_command'),
    `'/usr/local/lib/tpa/repmgr-event.sh %n %e %s "%t" "%d"'`,
  );
});

void test('repmgr.conf: options override the defaults; quotes in values are refused', () => {
  const conf = parse(
    renderRepmgrConf({
      cluster,
      nodeName: 'main-3',
      address: '10.0.3.13',
      paths: p,
      options: {
        failoverTimeout: 20,
        minStandbys: 0,
        monitoringHistory: true,
        priorities: { 'main-3': 0 },
      },
    }),
  );
  assert.equal(conf.get('reconnect_attempts'), '2');
  assert.equal(conf.get('reconnect_interval'), '14');
  assert.equal(conf.get('child_nodes_disconnect_command'), undefined, 'min_standbys 0: no fence');
  assert.equal(conf.get('monitoring_history'), 'yes');
  assert.equal(conf.get('priority'), '0');
  assert.throws(
    () => renderRepmgrConf({ cluster, nodeName: 'main-3', address: "10.0.3.13'", paths: p }),
    /cannot contain a quote/,
  );
});

void test('the sudo rules allow exactly the service commands repmgr.conf uses, and visudo accepts them', (t) => {
  const sudoers = renderSudoers(p);
  const conf = renderRepmgrConf({ cluster, nodeName: 'main-1', address: '10.0.3.11', paths: p });
  for (const m of conf.matchAll(/^\w*service_\w+_command='sudo -n ([^']+)'$/gm)) {
    assert.ok(sudoers.includes(m[1]!), `sudoers lacks ${m[1]}`);
  }
  if (!hasCommand('visudo')) return t.skip('visudo is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'tpa-sudoers-'));
  try {
    const file = join(dir, 'tpa-repmgr');
    writeFileSync(file, sudoers, { mode: 0o440 });
    const r = spawnSync('visudo', ['-c', '-f', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('repmgrd runs in the foreground under systemd, restarted when it dies', () => {
  const unit = renderRepmgrdUnit(p);
  assert.match(
    unit,
    /^ExecStart=\/usr\/lib\/postgresql\/15\/bin\/repmgrd -f \/etc\/repmgr.conf --daemonize=false$/m,
  );
  assert.match(unit, /^User=postgres$/m);
  assert.match(unit, /^Restart=always$/m);
  // repmgrd must survive the server's restarts (follow) and outages
  assert.doesNotMatch(unit, /BindsTo|Requires=|PartOf=/);
});
