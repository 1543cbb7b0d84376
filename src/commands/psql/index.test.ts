import assert from 'node:assert/strict';
import { test } from 'node:test';
import { passfileLine, psqlConninfo } from './index.ts';

void test('the connection string asks for TLS, verified against the CA when there is one, and holds no password', () => {
  assert.equal(
    psqlConninfo('10.0.3.11', 5432),
    'host=10.0.3.11 port=5432 dbname=postgres user=postgres sslmode=require application_name=tpa-psql',
  );
  const withCa = psqlConninfo('10.0.3.11', 5432, "/srv/it's here/tls/ca.crt");
  assert.match(withCa, /sslmode=verify-full sslrootcert='\/srv\/it\\'s here\/tls\/ca\.crt'/);
  assert.doesNotMatch(withCa, /password/);
});

void test('password file lines escape : and \\ in every field', () => {
  assert.equal(passfileLine('10.0.3.11', 5432, 'postgres', 'plain'), '10.0.3.11:5432:*:postgres:plain\n');
  assert.equal(
    passfileLine('fd00::5', 5432, 'postgres', 'a:b\\c'),
    'fd00\\:\\:5:5432:*:postgres:a\\:b\\\\c\n',
  );
  assert.throws(() => passfileLine('h', 1, 'u', 'two\nlines'), /line break/);
});
