/**
 * The committed settings catalogue is what this host's PostgreSQL 15 says (regenerated and
 * compared).
 * Needs Debian's postgresql-15 on the host: without it these tests fail, they do not skip.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CATALOGUE_FILE, type SettingsCatalogue } from '../src/model/pg-settings/catalogue.ts';
import {
  catalogueDiff,
  MissingPostgresError,
  openScratchServer,
  readCatalogue,
  REGENERATE,
  type ScratchServer,
} from './pg-settings.ts';

let opened: Promise<ScratchServer> | undefined;
const server = () => (opened ??= openScratchServer());
after(async () => {
  // a server that never opened has failed its tests already
  await (await opened?.catch(() => undefined))?.close();
});

void test(`${CATALOGUE_FILE} is what PostgreSQL 15's pg_settings says`, async () => {
  const file = fileURLToPath(new URL(`../${CATALOGUE_FILE}`, import.meta.url));
  const committed = JSON.parse(await readFile(file, 'utf8')) as SettingsCatalogue;
  const generated = await readCatalogue(await server());
  const diff = catalogueDiff(committed, generated);
  assert.deepEqual(
    diff,
    [],
    `the committed catalogue differs:\n  ${diff.join('\n  ')}\nrun ${REGENERATE} to regenerate`,
  );
  assert.deepEqual(committed, generated, `run ${REGENERATE} to regenerate`);
});

void test('a host without PostgreSQL 15 fails with what to install, it does not skip', async () => {
  await assert.rejects(openScratchServer('/nonexistent/bin'), (e: unknown) => {
    assert.ok(e instanceof MissingPostgresError);
    assert.match(e.message, /run scripts\/install-host-deps\.sh/);
    return true;
  });
});
