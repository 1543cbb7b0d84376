/**
 * The postgres component's output against a real PostgreSQL 15: conf.d/tpa.conf as rendered
 * for a node, pg_hba.conf written by the component's own shell action and then by the
 * client-access file, TLS material from ensureTls, roles from the component's verifiers
 * (created with the engine's SQL). Proves: every managed setting is accepted and reads back as
 * desired; replication and repmgr get in over TLS before clients do; clients only after
 * client-access, only with TLS; .pgpass works; the hba action keeps the client section.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { DeployContext } from '../src/components/component.ts';
import {
  clusterProbeCommand,
  hbaInfraCommand,
  hbaInfraProbe,
  PG_PROBES,
  postgresComponent,
} from '../src/components/postgres/component.ts';
import {
  renderHbaFile,
  renderHbaInfra,
  infraHbaRules,
  clientHbaRules,
} from '../src/components/postgres/hba.ts';
import { pgPaths } from '../src/components/postgres/paths.ts';
import { ensureTls } from '../src/components/tls/ensure.ts';
import { TLS_CA_CERT, tlsCertName, tlsKeyName } from '../src/components/tls/names.ts';
import { ClusterGroupSchema } from '../src/model/schema.ts';
import { settingMatches } from '../src/plan/pg-values.ts';
import { databaseSql, roleSql } from '../src/plan/sql.ts';
import type { Resource } from '../src/plan/types.ts';
import type { Inventory, InventoryHost } from '../src/platforms/platform.ts';
import { generateClusterSecrets, loadAllSecrets } from '../src/secrets/vault.ts';
import { SETTING_VALUE_SQL } from '../src/engine/fact-script.ts';
import {
  postgresAvailable,
  run,
  startPrivatePostgres,
  type PrivatePostgres,
} from './support/private-postgres.ts';

const savedKey = process.env.TPA_SECRET_KEY;
let dir: string;
let pg: PrivatePostgres;
let ctx: DeployContext;
let resources: Resource[];
let clientHba: string;
const data = () => join(pg.dir, 'data');
const paths = () => ({ ...pgPaths(15), hbaFile: join(data(), 'pg_hba.conf'), dataDir: data() });

function host(name: string, address: string, role: 'primary' | 'replica'): InventoryHost {
  return {
    name,
    kind: 'postgres',
    cluster: 'main',
    role,
    address,
    sshUser: 'root',
    sshPort: 22,
    instanceType: 'small',
    cpus: 2,
    memoryMb: 2048,
    volumeGb: 20,
  };
}

const config = ClusterGroupSchema.parse({
  name: 'pgtest',
  access: { client_cidrs: ['127.0.0.1/32'] },
  postgres: { settings: { log_min_duration_statement: '250ms' } },
  clusters: [
    {
      name: 'main',
      durability: 'sync',
      // pgbouncer on the nodes forwards clients from the node addresses (hba.ts), and this
      // node's address is also the client's here: without a pooler the two stay apart
      pooler: 'none',
      nodes: [
        { name: 'pg-1', role: 'primary' },
        { name: 'pg-2', role: 'replica' },
      ],
    },
  ],
});
// the node's address is 127.0.0.1: its own connections are "from a cluster node"
const inventory: Inventory = {
  group: 'pgtest',
  platform: 'bare',
  hosts: [host('pg-1', '127.0.0.1', 'primary'), host('pg-2', '10.255.0.2', 'replica')],
};

/** settings the private server must have differently (its own port, socket and file locations) */
const PRIVATE = new Set(['port', 'listen_addresses', 'ssl_cert_file', 'ssl_key_file', 'ssl_ca_file']);

before(
  async () => {
    assert.ok(postgresAvailable(), 'needs root and postgresql-15 (scripts/install-host-deps.sh)');
    process.env.TPA_SECRET_KEY = randomBytes(32).toString('base64');
    dir = await mkdtemp(join(tmpdir(), 'tpa-pgconf-'));
    await generateClusterSecrets(dir, { generateSshKey: false });
    const tls = await ensureTls(dir, inventory);
    ctx = { config, inventory, secrets: { ...(await loadAllSecrets(dir)), ...tls.secrets }, facts: {} };
    const out = postgresComponent.desired(inventory.hosts[0]!, ctx);
    resources = out.find((p) => p.phase === 'postgres-primary')!.resources;
    const hbaFile = out.find((p) => p.phase === 'client-access')!.resources[0]!;
    assert.equal(hbaFile.kind, 'file');
    clientHba = hbaFile.kind === 'file' ? hbaFile.content : '';

    const fileOf = (path: string) => {
      const r = resources.find((x) => x.kind === 'file' && x.path === path);
      assert.ok(r && r.kind === 'file', path);
      return r.content;
    };
    pg = await startPrivatePostgres({
      initdbArgs: ['--data-checksums'],
      settings: [
        `include '${join(dir, 'tpa.conf')}'`,
        `ssl_cert_file = '${join(dir, 'server.crt')}'`,
        `ssl_key_file = '${join(dir, 'server.key')}'`,
        `ssl_ca_file = '${join(dir, 'ca.crt')}'`,
      ],
      // the server starts with the component's infrastructure-only pg_hba.conf (written below)
      beforeStart: async (dataDir) => {
        await writeFile(join(dir, 'tpa.conf'), fileOf('/etc/postgresql/15/main/conf.d/tpa.conf'));
        await writeFile(join(dir, 'ca.crt'), fileOf('/etc/postgresql/15/main/tls/ca.crt'));
        await writeFile(join(dir, 'server.crt'), fileOf('/etc/postgresql/15/main/tls/server.crt'));
        await writeFile(join(dir, 'server.key'), fileOf('/etc/postgresql/15/main/tls/server.key'), {
          mode: 0o600,
        });
        await run('chown', ['postgres:postgres', join(dir, 'server.key')]);
        await run('chmod', ['0711', dir]);
        const action = resources.find((r) => r.kind === 'action' && r.id === 'postgres-hba-infrastructure');
        assert.ok(action?.kind === 'action');
        const p = { ...pgPaths(15), hbaFile: join(dataDir, 'pg_hba.conf'), dataDir };
        const r = await run('sh', ['-c', hbaInfraCommand(p)], { stdin: action.stdin! });
        assert.equal(r.code, 0, r.stderr);
      },
    });

    for (const r of resources) {
      if (r.kind === 'pg-role' || r.kind === 'pg-database') {
        // durability sync is on and no standby exists here: commit locally, as a deploy must
        // when its replicas are not streaming yet
        const res = await pg.psqlAsSuperuser(
          `SET synchronous_commit = local;\n${r.kind === 'pg-role' ? roleSql(r) : databaseSql(r)}`,
        );
        assert.equal(res.code, 0, res.stderr);
      }
    }
    // a client's own role, made by the customer with the postgres password
    const app = await pg.psqlAsSuperuser(
      `SET synchronous_commit = local; CREATE ROLE app LOGIN PASSWORD 'app-secret-1'`,
    );
    assert.equal(app.code, 0, app.stderr);
  },
  { timeout: 120_000 },
);

after(async () => {
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  if (savedKey === undefined) delete process.env.TPA_SECRET_KEY;
  else process.env.TPA_SECRET_KEY = savedKey;
});

async function sql(text: string): Promise<string> {
  const r = await pg.psqlAsSuperuser(text);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

const tls = (mode = 'verify-full') => ({ sslmode: mode, sslrootcert: join(dir, 'ca.crt') });

void test('the server runs with checksums and TLS, and every managed setting reads back as desired', async () => {
  assert.equal(await sql('SHOW data_checksums'), 'on');
  assert.equal(await sql('SHOW ssl'), 'on');
  assert.equal(await sql(`SELECT count(*) FROM pg_file_settings WHERE error IS NOT NULL`), '0');
  const wanted = resources.filter(
    (r): r is Extract<Resource, { kind: 'pg-setting' }> => r.kind === 'pg-setting',
  );
  assert.ok(wanted.length > 30);
  const rows = JSON.parse(
    await sql(
      `SELECT json_object_agg(name, json_build_object('setting', ${SETTING_VALUE_SQL}, 'unit', unit, 'vartype', vartype, 'pending', pending_restart)) FROM pg_settings`,
    ),
  ) as Record<string, { setting: string; unit: string | null; vartype: string; pending: boolean }>;
  const mismatched = wanted
    .filter((w) => !PRIVATE.has(w.name))
    .filter((w) => {
      const have = rows[w.name];
      return !have || have.pending || !settingMatches(w.value, have);
    })
    .map((w) => `${w.name}: want ${w.value}, have ${rows[w.name]?.setting}`);
  assert.deepEqual(mismatched, []);
  assert.equal(rows.synchronous_standby_names?.setting, 'ANY 1 ("pg-1", "pg-2")');
  assert.equal(rows.shared_preload_libraries?.setting, 'pg_stat_statements,repmgr');
});

void test('the probes: the hba action is no longer needed, the cluster is reported with checksums', async () => {
  const probe = await run('sh', ['-c', hbaInfraProbe(paths())]);
  const action = resources.find((r) => r.kind === 'action' && r.id === 'postgres-hba-infrastructure');
  assert.ok(action?.kind === 'action');
  const facts = {
    host: 'pg-1',
    reachable: true,
    packages: {},
    files: {},
    directories: {},
    services: {},
    probes: {},
  };
  assert.equal(action.needed({ ...facts, probes: { [PG_PROBES.hbaInfra]: probe.stdout.trim() } }), false);
  const cluster = await run('sh', ['-c', clusterProbeCommand(paths())]);
  assert.equal(cluster.stdout.trim(), 'exists=1 checksums=1 standby=0 databases=4');
});

void test('before client-access: replication and repmgr over TLS get in, clients do not', async () => {
  assert.equal(
    await sql(`SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL OR auth_method = 'trust'`),
    '0',
  );
  const repl = await pg.psqlAs('replicator', ctx.secrets.replication_password!, 'IDENTIFY_SYSTEM', {
    ...tls(),
    dbname: 'replication',
    replication: 'true',
  });
  assert.equal(repl.code, 0, repl.stderr);
  const plain = await pg.psqlAs('replicator', ctx.secrets.replication_password!, 'IDENTIFY_SYSTEM', {
    sslmode: 'disable',
    dbname: 'replication',
    replication: 'true',
  });
  assert.notEqual(plain.code, 0);
  assert.match(plain.stderr, /no pg_hba\.conf entry/);
  const repmgr = await pg.psqlAs('repmgr', ctx.secrets.repmgr_password!, 'SELECT current_user', {
    ...tls(),
    dbname: 'repmgr',
  });
  assert.equal(repmgr.code, 0, repmgr.stderr);
  // repmgr is for its own database only
  const repmgrElsewhere = await pg.psqlAs('repmgr', ctx.secrets.repmgr_password!, 'SELECT 1', tls());
  assert.notEqual(repmgrElsewhere.code, 0);
  const client = await pg.psqlAs('postgres', ctx.secrets.postgres_password!, 'SELECT 1', tls());
  assert.notEqual(client.code, 0);
  assert.match(client.stderr, /no pg_hba\.conf entry/);
});

void test('.pgpass lets the postgres OS user replicate without a password anywhere else', async () => {
  const pgpass = resources.find((r) => r.kind === 'file' && r.path === '/var/lib/postgresql/.pgpass');
  assert.ok(pgpass?.kind === 'file');
  const file = join(dir, 'pgpass');
  // the private server does not listen on 5432
  await writeFile(file, pgpass.content.replaceAll(':5432:', `:${pg.port}:`), { mode: 0o600 });
  const conninfo = `host=127.0.0.1 port=${pg.port} user=replicator dbname=replication replication=true sslmode=verify-full sslrootcert=${join(dir, 'ca.crt')}`;
  const r = await run(`${pg.bin}/psql`, ['-X', '-w', '-A', '-t', '-d', conninfo, '-c', 'IDENTIFY_SYSTEM'], {
    env: { PGPASSFILE: file, PGPASSWORD: '' },
  });
  assert.equal(r.code, 0, r.stderr);
});

void test('client-access: clients get in with TLS and the right password only', async () => {
  await writeFile(join(data(), 'pg_hba.conf'), clientHba);
  assert.equal(await sql('SELECT pg_reload_conf()'), 't');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await sql(`SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL`), '0');
  const ok = await pg.psqlAs(
    'postgres',
    ctx.secrets.postgres_password!,
    'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    tls(),
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), 't');
  const app = await pg.psqlAs('app', 'app-secret-1', 'SELECT current_user', tls());
  assert.equal(app.code, 0, app.stderr);
  const wrong = await pg.psqlAs('postgres', 'not-the-password', 'SELECT 1', tls());
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /password authentication failed/);
  const plain = await pg.psqlAs('postgres', ctx.secrets.postgres_password!, 'SELECT 1', {
    sslmode: 'disable',
  });
  assert.notEqual(plain.code, 0);
  assert.match(plain.stderr, /no pg_hba\.conf entry/);
});

void test('a later deploy rewrites the infrastructure part and keeps the client section', async () => {
  const grown: Inventory = {
    ...inventory,
    hosts: [...inventory.hosts, host('pg-3', '10.255.0.3', 'replica')],
  };
  const grownConfig = ClusterGroupSchema.parse({
    ...config,
    clusters: [
      { ...config.clusters[0]!, nodes: [...config.clusters[0]!.nodes, { name: 'pg-3', role: 'replica' }] },
    ],
  });
  const infra = infraHbaRules(grown.hosts[0]!, grownConfig, grown);
  const r = await run('sh', ['-c', hbaInfraCommand(paths())], { stdin: renderHbaInfra(infra) });
  assert.equal(r.code, 0, r.stderr);
  const now = await readFile(join(data(), 'pg_hba.conf'), 'utf8');
  assert.equal(now, renderHbaFile(infra, clientHbaRules(grown.hosts[0]!, grownConfig)));
  assert.match(now, /10\.255\.0\.3\/32/);
  assert.equal(await sql('SELECT pg_reload_conf()'), 't');
  await new Promise((res) => setTimeout(res, 500));
  const app = await pg.psqlAs('app', 'app-secret-1', 'SELECT 1', tls());
  assert.equal(app.code, 0, app.stderr);
});

void test('TLS: the server certificate verifies by name, by address, and only against the group CA', async () => {
  const byName = await pg.psqlAs('app', 'app-secret-1', 'SELECT 1', {
    ...tls(),
    host: 'localhost',
    hostaddr: '127.0.0.1',
  });
  // the certificate names pg-1 and 127.0.0.1, not "localhost"
  assert.notEqual(byName.code, 0);
  assert.match(byName.stderr, /does not match host name|server certificate for/);
  const otherCa = join(dir, 'other-ca.crt');
  await writeFile(otherCa, ctx.secrets[tlsCertName('pg-2')]!);
  const foreign = await pg.psqlAs('app', 'app-secret-1', 'SELECT 1', {
    sslmode: 'verify-ca',
    sslrootcert: otherCa,
  });
  assert.notEqual(foreign.code, 0);
  assert.ok(ctx.secrets[TLS_CA_CERT] && ctx.secrets[tlsKeyName('pg-1')]);
});
