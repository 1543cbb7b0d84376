import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorLine, lastLine, lsnBytes } from './observation.ts';

void test('LSNs convert to byte positions', () => {
  assert.equal(lsnBytes('0/301BF68'), 0x301bf68n);
  assert.equal(lsnBytes('1/0'), 1n << 32n);
  assert.equal(lsnBytes(null), undefined);
  assert.equal(lsnBytes('bogus'), undefined);
});

void test("an error line loses psql's prefix and the server's severity, or the prefix of the tool named", () => {
  const psql = 'psql: error: connection to server at "X", port 5432 failed: FATAL:  no pg_hba.conf entry';
  assert.equal(
    errorLine(`${psql}\n`),
    'connection to server at "X", port 5432 failed: FATAL:  no pg_hba.conf entry',
  );
  assert.equal(errorLine('NOTICE: x\nERROR:  disk full\nDETAIL: y'), 'disk full');
  assert.equal(errorLine('repmgr: error: unable to connect', 'repmgr'), 'unable to connect');
  assert.equal(errorLine('first\n\nlast\n'), 'last');
  assert.equal(lastLine('a\n  b  \n\n'), 'b');
});
