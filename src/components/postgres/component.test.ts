import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { OperationError } from '../../core/errors.ts';
import type { PhasedResources, Resource } from '../../plan/types.ts';
import { scramVerifier, scramVerifierMatches } from '../../secrets/scram.ts';
import { CREATECLUSTER_CONF, parseClusterProbe, PG_PROBES, postgresComponent } from './component.ts';
import { CLIENT_BEGIN } from './hba.ts';
import {
  deployContext,
  facts,
  groupConfig,
  groupInventory,
  node,
} from '../../../test/support/postgres-fixtures.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function phase(out: PhasedResources[], name: string): Resource[] {
  return out.find((p) => p.phase === name)?.resources ?? [];
}
function byKind<K extends Resource['kind']>(rs: Resource[], kind: K): Extract<Resource, { kind: K }>[] {
  return rs.filter((r): r is Extract<Resource, { kind: K }> => r.kind === kind);
}
function file(rs: Resource[], path: string) {
  return byKind(rs, 'file').find((f) => f.path === path);
}
function action(rs: Resource[], id: string) {
  return byKind(rs, 'action').find((a) => a.id === id);
}

void test('applies to postgres nodes only', () => {
  const ctx = deployContext();
  assert.equal(postgresComponent.appliesTo(groupInventory().hosts[0]!, ctx), true);
  assert.equal(postgresComponent.appliesTo(node('backup-1', '10.0.3.50', 'barman'), ctx), false);
});

void test('phase common: createcluster.conf asks Debian for data checksums before postgresql-15 is installed', () => {
  const ctx = deployContext();
  const out = postgresComponent.desired(ctx.inventory.hosts[0]!, ctx);
  const f = file(phase(out, 'common'), CREATECLUSTER_CONF);
  assert.ok(f);
  assert.match(f.content, /^initdb_options = '--data-checksums'$/m);
  assert.ok(!byKind(phase(out, 'common'), 'package').length, 'no server package before the file exists');
});

void test('primary: packages, TLS files, then the service, then settings and roles; TLS files (key secret 0600), tpa.conf, hba, roles', () => {
  const ctx = deployContext();
  const out = postgresComponent.desired(ctx.inventory.hosts[0]!, ctx);
  assert.deepEqual(phase(out, 'postgres-replicas'), []);
  const rs = phase(out, 'postgres-primary');
  assert.deepEqual(
    byKind(rs, 'package').map((p) => p.name),
    ['postgresql-15', 'postgresql-15-repmgr'],
  );
  // a server started after its files reads them: no restart right after its first start
  const service = rs.findIndex((r) => r.kind === 'service');
  assert.ok(
    service > rs.findIndex((r) => r.kind === 'file' && r.path.endsWith('/tpa.conf')),
    'after tpa.conf',
  );
  assert.ok(service > rs.findIndex((r) => r.kind === 'action' && r.id === 'postgres-hba-infrastructure'));
  assert.ok(service < rs.findIndex((r) => r.kind === 'pg-role'), 'roles need the server');
  assert.ok(service < rs.findIndex((r) => r.kind === 'pg-setting'), 'settings are compared on the server');
  const key = file(rs, '/etc/postgresql/15/main/tls/server.key')!;
  assert.equal(key.mode, 0o600);
  assert.equal(key.owner, 'postgres');
  assert.equal(key.secret, true);
  assert.deepEqual(key.notify, ['reload:postgresql@15-main']);
  assert.ok(file(rs, '/etc/postgresql/15/main/tls/server.crt'));
  assert.ok(file(rs, '/etc/postgresql/15/main/tls/ca.crt'));
  const conf = file(rs, '/etc/postgresql/15/main/conf.d/tpa.conf')!;
  assert.match(conf.content, /^ssl = on$/m);
  // a server not running at fact time is restarted once to read the file
  assert.deepEqual(conf.notify, ['restart:postgresql@15-main']);
  const pgpass = file(rs, '/var/lib/postgresql/.pgpass')!;
  assert.equal(pgpass.mode, 0o600);
  assert.equal(pgpass.secret, true);
  assert.match(pgpass.content, /^\*:5432:replication:replicator:pw-replication-0123456789$/m);
  assert.match(pgpass.content, /^\*:5432:\*:repmgr:pw-repmgr-0123456789$/m);
  // the pooler's follower and health check log in as a role of their own, on both ports
  const pgb = /^\*:(\d+):\*:pgbouncer_check:(.*)$/gm;
  assert.deepEqual(
    [...pgpass.content.matchAll(pgb)].map((m) => m[1]),
    ['5432', '6432'],
  );
  assert.doesNotMatch(pgpass.content, /^\*:6432:\*:repmgr:/m);

  const settings = byKind(rs, 'pg-setting');
  assert.ok(settings.every((s) => s.unit === 'postgresql@15-main'));
  assert.equal(settings.find((s) => s.name === 'ssl')?.value, 'on');
  assert.equal(settings.find((s) => s.name === 'shared_buffers')?.value, '256MB');
  // every setting in the file is also a pg-setting, and nothing else
  const inFile = conf.content
    .split('\n')
    .filter((l) => /^[A-Za-z]/.test(l))
    .map((l) => l.split(' = ')[0]);
  assert.deepEqual(
    inFile,
    settings.map((s) => s.name),
  );

  const roles = byKind(rs, 'pg-role');
  assert.deepEqual(
    roles.map((r) => r.name),
    ['postgres', 'replicator', 'repmgr', 'pgbouncer_auth', 'pgbouncer_check'],
  );
  const secrets = ctx.secrets;
  for (const [role, secret] of [
    ['postgres', 'postgres_password'],
    ['replicator', 'replication_password'],
    ['repmgr', 'repmgr_password'],
    ['pgbouncer_auth', 'pgbouncer_password'],
    ['pgbouncer_check', 'pgbouncer_check_password'],
  ] as const) {
    const r = roles.find((x) => x.name === role)!;
    assert.ok(scramVerifierMatches(r.verifier, secrets[secret]!), role);
    assert.ok(!r.verifier.includes(secrets[secret]!), 'only the verifier, never the password');
  }
  assert.deepEqual(roles.find((r) => r.name === 'replicator')?.attributes, ['LOGIN', 'REPLICATION']);
  assert.deepEqual(roles.find((r) => r.name === 'repmgr')?.attributes, ['SUPERUSER', 'LOGIN']);
  assert.deepEqual(roles.find((r) => r.name === 'pgbouncer_auth')?.attributes, ['LOGIN']);
  assert.deepEqual(byKind(rs, 'pg-database'), [{ kind: 'pg-database', name: 'repmgr', owner: 'repmgr' }]);
});

void test('barman roles when backups are on; the password is never in a resource in clear but in .pgpass', () => {
  const ctx = deployContext(
    groupConfig({ backup: { mode: 'shared' } }),
    groupInventory([node('backup-1', '10.0.3.50', 'barman')]),
  );
  const rs = phase(postgresComponent.desired(ctx.inventory.hosts[0]!, ctx), 'postgres-primary');
  const barman = byKind(rs, 'pg-role').find((r) => r.name === 'barman')!;
  assert.deepEqual(barman.inRoles, ['pg_read_all_settings', 'pg_read_all_stats', 'pg_checkpoint']);
  assert.ok(
    byKind(rs, 'pg-role').some((r) => r.name === 'streaming_barman' && r.attributes.includes('REPLICATION')),
  );
  const text = JSON.stringify(rs.filter((r) => !(r.kind === 'file' && r.secret)));
  for (const s of ['pw-barman-0123456789', 'pw-postgres-0123456789', 'pw-repmgr-0123456789'])
    assert.ok(!text.includes(s));
});

void test('re-deploy: a verifier that still matches its password is kept, a stale one replaced', () => {
  const ctx = deployContext();
  const kept = scramVerifier('pw-replication-0123456789');
  const stale = scramVerifier('old password');
  ctx.facts['main-1'] = facts('main-1', {
    postgres: {
      running: true,
      inRecovery: false,
      version: '15',
      settings: {},
      roles: {
        replicator: { verifier: kept, attributes: [] },
        postgres: { verifier: stale, attributes: [] },
      },
      databases: [],
    },
  });
  const roles = byKind(
    phase(postgresComponent.desired(ctx.inventory.hosts[0]!, ctx), 'postgres-primary'),
    'pg-role',
  );
  assert.equal(roles.find((r) => r.name === 'replicator')?.verifier, kept);
  const pg = roles.find((r) => r.name === 'postgres')!.verifier;
  assert.notEqual(pg, stale);
  assert.ok(scramVerifierMatches(pg, 'pw-postgres-0123456789'));
  // postgres running at fact time: pg-setting changes pick reload or restart, the file notifies nothing
  const conf = file(
    phase(postgresComponent.desired(ctx.inventory.hosts[0]!, ctx), 'postgres-primary'),
    '/etc/postgresql/15/main/conf.d/tpa.conf',
  );
  assert.equal(conf?.notify, undefined);
});

void test('replica: no service, no roles, the uncloned cluster held until the clone', () => {
  const ctx = deployContext();
  const out = postgresComponent.desired(ctx.inventory.hosts[1]!, ctx);
  assert.deepEqual(phase(out, 'postgres-primary'), []);
  const rs = phase(out, 'postgres-replicas');
  assert.equal(byKind(rs, 'service').length, 0);
  assert.equal(byKind(rs, 'pg-role').length, 0);
  assert.equal(byKind(rs, 'pg-database').length, 0);
  assert.ok(file(rs, '/etc/postgresql/15/main/tls/server.key'));
  const hold = action(rs, 'postgres-hold-uncloned-replica')!;
  assert.match(hold.command, /standby\.signal/);
  assert.equal(hold.needed(facts('main-2')), true, 'nothing known yet: hold');
  assert.equal(hold.needed(facts('main-2', { probes: { [PG_PROBES.cluster]: 'exists=0' } })), true);
  assert.equal(
    hold.needed(
      facts('main-2', { probes: { [PG_PROBES.cluster]: 'exists=1 checksums=1 standby=0 databases=3' } }),
    ),
    true,
  );
  assert.equal(
    hold.needed(
      facts('main-2', { probes: { [PG_PROBES.cluster]: 'exists=1 checksums=1 standby=1 databases=4' } }),
    ),
    false,
  );
  assert.ok(!action(rs, 'postgres-enable-checksums'));
});

void test('checksums are enabled only on a fresh, empty primary cluster', () => {
  const ctx = deployContext();
  const a = action(
    phase(postgresComponent.desired(ctx.inventory.hosts[0]!, ctx), 'postgres-primary'),
    'postgres-enable-checksums',
  )!;
  const with_ = (probe: string) => a.needed(facts('main-1', { probes: { [PG_PROBES.cluster]: probe } }));
  assert.equal(with_('exists=1 checksums=0 standby=0 databases=3'), true);
  assert.equal(with_('exists=1 checksums=1 standby=0 databases=3'), false);
  assert.equal(with_('exists=1 checksums=0 standby=0 databases=4'), false, 'user data: never touched');
  assert.equal(with_('exists=1 checksums=0 standby=1 databases=3'), false);
  assert.equal(with_('exists=0'), false);
  assert.equal(a.needed(facts('main-1')), false);
  assert.deepEqual(
    parseClusterProbe(
      facts('x', { probes: { [PG_PROBES.cluster]: 'exists=1 checksums=1 standby=0 databases=5' } }),
    ),
    {
      exists: true,
      checksums: 1,
      standby: false,
      databases: 5,
    },
  );
});

void test('pg_hba: infrastructure in the node phase (an action keeping the client section), the whole file in client-access', () => {
  const ctx = deployContext(groupConfig({ access: { client_cidrs: ['203.0.113.10/32'] } }));
  for (const host of ctx.inventory.hosts) {
    const out = postgresComponent.desired(host, ctx);
    const nodePhase = host.role === 'primary' ? 'postgres-primary' : 'postgres-replicas';
    const hbaAction = action(phase(out, nodePhase), 'postgres-hba-infrastructure')!;
    assert.ok(!hbaAction.stdin!.includes('203.0.113.10'), 'no client rule before client-access');
    assert.ok(!hbaAction.stdin!.includes(CLIENT_BEGIN));
    // it reloads a running server itself, at once: a cascading replica cloned in the same
    // phase needs the rule before the phase's handlers run
    assert.equal(hbaAction.notify, undefined);
    assert.match(
      hbaAction.command,
      /if systemctl is-active --quiet postgresql@15-main; then systemctl reload postgresql@15-main; fi$/,
    );
    const whole = file(phase(out, 'client-access'), '/etc/postgresql/15/main/pg_hba.conf')!;
    assert.ok(
      whole.content.startsWith(hbaAction.stdin!),
      'the action writes exactly the prefix of the final file',
    );
    assert.match(whole.content, /hostssl +all +all +203\.0\.113\.10\/32 +scram-sha-256/);
    assert.equal(whole.mode, 0o640);
    assert.equal(whole.owner, 'postgres');
    assert.ok(!/\btrust\b/.test(whole.content.replace(/^#.*$/gm, '')));
    // needed until the probe reports the same prefix
    assert.equal(hbaAction.needed(facts(host.name, { probes: { [PG_PROBES.hbaInfra]: sha('') } })), true);
    assert.equal(
      hbaAction.needed(facts(host.name, { probes: { [PG_PROBES.hbaInfra]: sha(hbaAction.stdin!) } })),
      false,
    );
    assert.ok(!file(phase(out, nodePhase), '/etc/postgresql/15/main/pg_hba.conf'), 'one owner per path');
  }
});

void test('a missing secret is a typed error naming the secret, not its value', () => {
  const ctx = deployContext();
  delete ctx.secrets.repmgr_password;
  assert.throws(
    () => postgresComponent.desired(ctx.inventory.hosts[0]!, ctx),
    (e: unknown) => e instanceof OperationError && /repmgr_password/.test(e.message),
  );
});

void test('probes and checks', () => {
  const ctx = deployContext();
  const probes = postgresComponent.probes!(ctx.inventory.hosts[0]!, ctx);
  assert.deepEqual(Object.keys(probes).sort(), [PG_PROBES.cluster, PG_PROBES.hbaInfra].sort());
  const checks = postgresComponent.checks!(ctx.inventory.hosts[0]!, ctx);
  assert.deepEqual(
    checks.map((c) => c.name),
    ['postgres accepts connections; data checksums and ssl on; pg_hba.conf parses, no trust rule'],
  );
});
