/**
 * scramVerifier against a real PostgreSQL: a role created with a locally computed verifier
 * logs in over scram-sha-256 with its password, a wrong password is refused, and our verifier
 * equals the one the server computes itself for the same salt.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseScramVerifier, scramVerifier } from '../src/secrets/scram.ts';
import { postgresAvailable, startPrivatePostgres, type PrivatePostgres } from './support/private-postgres.ts';

let pg: PrivatePostgres;

before(async () => {
  assert.ok(postgresAvailable(), 'needs root and postgresql-15 (apt-get install -y postgresql-15)');
  pg = await startPrivatePostgres();
});
after(async () => {
  await pg?.stop();
});

async function sql(text: string): Promise<string> {
  const r = await pg.psqlAsSuperuser(text);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

void test('a role with a local verifier logs in with its password over scram-sha-256', async () => {
  const password = 'Zq8dY2vN0pLk4RtX9wEe1sUa7HcJm3Bf';
  const verifier = scramVerifier(password);
  await sql(`CREATE ROLE app_user LOGIN PASSWORD '${verifier}'`);
  // the server stored the verifier as it is: it never saw the password
  assert.equal(await sql(`SELECT rolpassword FROM pg_authid WHERE rolname = 'app_user'`), verifier);

  const ok = await pg.psqlAs('app_user', password, 'SELECT current_user');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), 'app_user');

  const bad = await pg.psqlAs('app_user', password + 'x', 'SELECT 1');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /password authentication failed for user "app_user"/);

  // require_auth is PG16; check the method from the server's side instead
  const hba = await sql(
    `SELECT auth_method FROM pg_hba_file_rules WHERE address = '127.0.0.1' AND database = '{all}'`,
  );
  assert.equal(hba, 'scram-sha-256');
});

void test('same salt and iterations give exactly the verifier the server computes (ASCII and non-ASCII)', async () => {
  for (const [i, password] of [
    'plain-ASCII pass 1',
    'pässwörd \uFB01ne\u00A0ok',
    '\u00E9t\u00E9\u00A0',
  ].entries()) {
    const role = `server_made_${i}`;
    await sql(`SET password_encryption = 'scram-sha-256'; CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    const stored = await sql(`SELECT rolpassword FROM pg_authid WHERE rolname = '${role}'`);
    const parsed = parseScramVerifier(stored);
    assert.ok(parsed, stored);
    assert.equal(scramVerifier(password, parsed.salt, parsed.iterations), stored, `password #${i}`);
    // and the password logs in (the client side SASLprep agrees too)
    const ok = await pg.psqlAs(role, password, 'SELECT 1');
    assert.equal(ok.code, 0, ok.stderr);
  }
});

void test('a verifier with more iterations works too', async () => {
  const verifier = scramVerifier('another-secret', undefined, 10000);
  await sql(`CREATE ROLE iter_user LOGIN PASSWORD '${verifier}'`);
  const ok = await pg.psqlAs('iter_user', 'another-secret', 'SELECT 1');
  assert.equal(ok.code, 0, ok.stderr);
  const bad = await pg.psqlAs('iter_user', 'Another-secret', 'SELECT 1');
  assert.notEqual(bad.code, 0);
});
