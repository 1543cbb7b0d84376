/**
 * tpa psql hands the superuser's password to psql in a password file: a password with the
 * characters libpq's file format treats specially (`:` and `\`) must still log in, through
 * a real psql and a real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { passfileLine } from '../src/commands/psql/index.ts';
import {
  postgresAvailable,
  run,
  startPrivatePostgres,
  type PrivatePostgres,
} from './support/private-postgres.ts';

let pg: PrivatePostgres;
let tmp: string;

before(async () => {
  assert.ok(postgresAvailable(), 'needs root and postgresql-15 (apt-get install -y postgresql-15)');
  pg = await startPrivatePostgres();
  tmp = await mkdtemp(join(tmpdir(), 'tpa-passfile-'));
});
after(async () => {
  await pg?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function loginWith(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run(
    `${pg.bin}/psql`,
    [
      '-X',
      '-A',
      '-t',
      '-w',
      '-d',
      `host=127.0.0.1 port=${pg.port} dbname=postgres user=odd_user sslmode=disable`,
      '-c',
      'SELECT current_user',
    ],
    { env: { PGPASSFILE: file, PGPASSWORD: '' } },
  );
}

void test('a password with : and \\ logs in from the password file passfileLine writes', async () => {
  const password = 'a:b\\c:*:d\\\\';
  const literal = password.replaceAll("'", "''");
  const made = await pg.psqlAsSuperuser(
    `SET password_encryption = 'scram-sha-256'; CREATE ROLE odd_user LOGIN PASSWORD '${literal}';`,
  );
  assert.equal(made.code, 0, made.stderr);

  const good = join(tmp, 'good');
  await writeFile(good, passfileLine('127.0.0.1', pg.port, 'odd_user', password), { mode: 0o600 });
  const ok = await loginWith(good);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), 'odd_user');

  // the same line without escaping is read as other fields and the login fails
  const naive = join(tmp, 'naive');
  await writeFile(naive, `127.0.0.1:${pg.port}:*:odd_user:${password}\n`, { mode: 0o600 });
  const bad = await loginWith(naive);
  assert.notEqual(bad.code, 0);
});
