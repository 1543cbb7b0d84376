import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseObservation } from '../../../checks/observe.ts';
import { framed } from '../../../../test/support/checks-fixtures.ts';
import { readPgbouncerSections } from './observation.ts';

void test("pgbouncer's route: the line of databases.ini and its host, or why it could not be read", () => {
  const ok = parseObservation('main-2', framed([['pgbouncer-route', 'host=10.0.3.11 port=5432\n', 0]]));
  assert.deepEqual(ok.pgbouncer, { route: 'host=10.0.3.11 port=5432', routeHost: '10.0.3.11' });
  const missing = readPgbouncerSections({
    'pgbouncer-route': { output: "sed: can't read /etc/pgbouncer/databases.ini: No such file", exitCode: 2 },
  });
  assert.deepEqual(missing, {
    pgbouncer: { error: "sed: can't read /etc/pgbouncer/databases.ini: No such file" },
  });
  assert.deepEqual(readPgbouncerSections({}), {});
});
