import { test } from 'node:test';
import assert from 'node:assert/strict';
import { databaseSql, quoteIdent, quoteLiteral, roleSql } from './sql.ts';

void test('quoting doubles the quote characters', () => {
  assert.equal(quoteIdent('a"b'), '"a""b"');
  assert.equal(quoteLiteral("it's"), "'it''s'");
  assert.throws(() => quoteLiteral('a\0b'));
});

void test('role SQL creates when missing, sets every managed attribute and the verifier', () => {
  const sql = roleSql({
    kind: 'pg-role',
    name: 'repl',
    verifier: 'SCRAM-SHA-256$4096:c2FsdA==$a:b',
    attributes: ['login', 'REPLICATION'],
    inRoles: ['pg_monitor'],
  });
  assert.match(
    sql,
    /IF NOT EXISTS \(SELECT FROM pg_catalog\.pg_roles WHERE rolname = 'repl'\) THEN CREATE ROLE "repl"/,
  );
  assert.match(
    sql,
    /ALTER ROLE "repl" WITH NOSUPERUSER NOCREATEDB NOCREATEROLE LOGIN REPLICATION NOBYPASSRLS PASSWORD 'SCRAM-SHA-256\$4096:c2FsdA==\$a:b';/,
  );
  assert.match(sql, /GRANT "pg_monitor" TO "repl";/);
});

void test('an empty verifier means no password', () => {
  assert.match(roleSql({ kind: 'pg-role', name: 'r', verifier: '', attributes: [] }), /PASSWORD NULL;/);
});

void test('database SQL creates only when missing and sets the owner', () => {
  const sql = databaseSql({ kind: 'pg-database', name: "o'db", owner: 'app' });
  assert.match(sql, /format\('CREATE DATABASE %I OWNER %I', 'o''db', 'app'\) WHERE NOT EXISTS .*\\gexec/);
  assert.match(sql, /ALTER DATABASE "o'db" OWNER TO "app";/);
});
