/**
 * The committed settings catalogue is what this host's PostgreSQL 15 says (regenerated and
 * compared), and `tpa validate` reads values as that server does (the same values put to it).
 * Needs Debian's postgresql-15 on the host: without it these tests fail, they do not skip.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CATALOGUE_FILE, findSetting, type SettingsCatalogue } from '../src/model/pg-settings/catalogue.ts';
import { checkSettingValue, settingText, type SettingInput } from '../src/model/pg-settings/value.ts';
import {
  catalogueDiff,
  MissingPostgresError,
  openScratchServer,
  probeValues,
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

/** Values at the edges of what guc.c accepts, for settings of each type and unit. */
const SAMPLES: [string, SettingInput[]][] = [
  [
    'enable_seqscan',
    ['on', 'ON', 'of', 'o', 'off', 'offf', 't', 'tr', 'TRUE', 'truex', 'y', 'ye', 'n', 'no', 'f'],
  ],
  ['enable_seqscan', ['fals', '1', '0', '2', '01', '', ' on', 'on ', true, false, 1, 0]],
  [
    'extra_float_digits',
    ['3', '4', '-15', '-16', '0x3', '0X2', '03', '08', '010', ' 2', '2 ', '2.5', '3.5', '1e0'],
  ],
  ['extra_float_digits', ['+1', '-.5', '.5', '1kB', '', 'abc', '0x', '1.5e0', '2e', 2.5, -0.5, 1e21]],
  ['shared_buffers', ['128MB', '128 MB', '128mb', '1.5kB', '127kB', '128kB', '8TB', '0x10', '16', '15']],
  ['shared_buffers', ['1GB ', 'lots', '1 GB x', '1e3', '-1', '1 kB', '1GB\t', '128MBs', 16384]],
  ['work_mem', ['64', '63', '64kB', '65535B', '65536B', '0.0625MB', '1.5MB', '4TB', '2TB', '2047GB', 65536]],
  // MB to 8kB pages rounds to whole kB first: 20.4kB -> 20kB -> 2.5 pages -> 2 (not 2.55 -> 3)
  ['effective_cache_size', ['0.019921875MB', '20.4kB', '1.5', '2.5']],
  ['temp_file_limit', ['0.011230MB', '1.5kB', '2.5kB', '2.5', '3.5', '1536B', '2560B', '-1', '-2', '-1kB']],
  ['log_parameter_max_length', ['1kB', '1.5B', '2.5B', '100', '-1', '1GB']],
  ['min_wal_size', ['80MB', '1GB', '1.5GB', '2', '1', '1MB', '2048kB', '2047kB']],
  ['statement_timeout', ['1s', '1.5s', '1min', '1h', '1d', '24d', '25d', '500us', '1500us', '2500us', '1 s']],
  ['statement_timeout', ['1S', '1sec', '1m', '1 min', '-1', '0', 1.5, 1000]],
  [
    'checkpoint_timeout',
    ['15min', '29s', '30s', '1d', '1.5min', '0.5min', '29999ms', '29499ms', '1d1h', 300],
  ],
  ['log_rotation_age', ['1d', '90s', '150s', '1h', '0', '-1']],
  [
    'checkpoint_completion_target',
    ['0.9', '1', '1.1', '0x1p-1', '.5', '5e-1', 'nan', 'inf', '-0', '0.9x', '1ms'],
  ],
  ['seq_page_cost', ['1', '1e308', '1e309', '-1', '1e-400', '0x10', '1.5 ', 0.5]],
  ['vacuum_cost_delay', ['2ms', '2', '0.5ms', '500us', '1s', '100ms', '0.1s', '1min', '101', 2]],
  ['wal_level', ['replica', 'REPLICA', 'archive', 'hot_standby', 'on', 'rep', 'logical ', true]],
  ['synchronous_commit', ['on', 'ON', 'true', 'yes', '1', 't', 'remote_apply', 'remote apply', false, 0]],
  ['huge_pages', ['try', 'yes', 'y', 'Off', true]],
  ['log_min_messages', ['debug', 'DEBUG1', 'warn', 'warning']],
  ['ssl_max_protocol_version', ['', 'TLSv1.3', 'tlsv1.3', 'TLSv1.4']],
  ['default_transaction_isolation', ['Repeatable Read', 'repeatable_read', 'serializable']],
  ['pg_stat_statements.max', ['5000', '99', '100', '10k']],
  ['pg_stat_statements.track', ['top', 'ALL', 'every']],
];

void test('tpa validate accepts exactly what PostgreSQL 15 accepts, and reads numbers to the same value', async () => {
  const probes = SAMPLES.flatMap(([name, values]) => values.map((value) => ({ name, value })));
  const results = await probeValues(
    await server(),
    probes.map((p) => ({ name: p.name, value: settingText(p.value) })),
    { session: true },
  );
  const disagreements: string[] = [];
  probes.forEach(({ name, value }, i) => {
    const spec = findSetting(name);
    assert.ok(spec, name);
    const ours = checkSettingValue(spec, value);
    const theirs = results[i]!;
    const what = `${name} = ${JSON.stringify(value)}`;
    if (ours.ok !== theirs.accepted) {
      disagreements.push(
        `${what}: postgres ${theirs.accepted ? 'accepts' : 'refuses'}, tpa ${ours.ok ? 'accepts' : 'refuses'}`,
      );
    } else if (ours.ok && typeof ours.value === 'number' && theirs.setting != null) {
      // pg_settings shows reals with 6 significant digits
      const ourReading = spec.vartype === 'real' ? Number(ours.value.toPrecision(6)) : ours.value;
      const same = Number(theirs.setting) === ourReading;
      if (!same) disagreements.push(`${what}: postgres reads ${theirs.setting}, tpa ${ours.value}`);
    } else if (ours.ok && typeof ours.value === 'boolean' && theirs.setting != null) {
      if (theirs.setting !== (ours.value ? 'on' : 'off'))
        disagreements.push(`${what}: postgres reads ${theirs.setting}, tpa ${ours.value}`);
    }
  });
  if (process.env.TPA_SHOW_PROBES)
    probes.forEach((p, i) =>
      console.log(p.name, JSON.stringify(p.value), results[i]!.accepted, results[i]!.setting),
    );
  assert.deepEqual(disagreements, []);
  // the readings did happen
  const double = probes.findIndex((p) => p.name === 'effective_cache_size' && p.value === '0.019921875MB');
  assert.equal(results[double]!.setting, '2');
});
