import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preinstallFor } from './preinstall.ts';
import { threeNodeConfig } from '../../test/support/fixtures.ts';

void test("the failover manager's and the pooler's daemons stay off in a preinstalled image until deploy configures them", () => {
  const p = preinstallFor(threeNodeConfig());
  assert.ok(
    p.packages.includes('repmgr') || p.packages.some((x) => x.includes('repmgr')),
    p.packages.join(' '),
  );
  assert.deepEqual(p.quietUnits, ['pgbouncer', 'repmgrd', 'tpa-pgbouncer-follow']);
});
