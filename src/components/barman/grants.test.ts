/** The grants and their probe on a real, throw-away PostgreSQL 15 (needs root and postgresql-15). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  postgresAvailable,
  startPrivatePostgres,
  type PrivatePostgres,
} from '../../../test/support/private-postgres.ts';
import { BACKUP_FUNCTIONS, grantSql, grantsNeeded, grantsProbeSql, BARMAN_GRANTS_PROBE } from './grants.ts';
import { emptyFacts } from '../../../test/support/repmgr-fixtures.ts';

const available = postgresAvailable(15);
let pg: PrivatePostgres | undefined;

before(async () => {
  if (available) pg = await startPrivatePostgres();
});
after(async () => {
  await pg?.stop();
});

async function sql(text: string): Promise<string> {
  const r = await pg!.psqlAsSuperuser(text);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

void test(
  'without grants the probe says f; after grantSql it says t; the SQL is idempotent',
  { skip: !available },
  async () => {
    await sql('CREATE ROLE barman LOGIN');
    const before = await sql(grantsProbeSql());
    assert.equal(before, 'f');
    assert.equal(grantsNeeded(emptyFacts('h', { [BARMAN_GRANTS_PROBE]: before })), true);
    await sql(grantSql());
    await sql(grantSql());
    const afterGrant = await sql(grantsProbeSql());
    assert.equal(afterGrant, 't');
    assert.equal(grantsNeeded(emptyFacts('h', { [BARMAN_GRANTS_PROBE]: afterGrant })), false);
  },
);

void test(
  'every backup function named exists in PostgreSQL 15 with that signature',
  { skip: !available },
  async () => {
    for (const f of BACKUP_FUNCTIONS) {
      assert.notEqual(await sql(`SELECT '${f}'::regprocedure::oid`), '', f);
    }
  },
);

void test(
  'the barman role can then call pg_switch_wal without being a superuser',
  { skip: !available },
  async () => {
    await sql("ALTER ROLE barman PASSWORD 'grant-test-pw'");
    const r = await pg!.psqlAs('barman', 'grant-test-pw', 'SELECT pg_switch_wal() IS NOT NULL');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 't');
  },
);
