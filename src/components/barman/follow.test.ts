/**
 * The follower script, run by a real /bin/sh with fake runuser, psql and barman on PATH: psql
 * answers per address from a table, barman records how it was called.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderServerConf } from './conf.ts';
import { followCronLine, renderFollowConf, renderFollowScript } from './follow.ts';
import { shellProblems } from '../../../test/support/repmgr-fixtures.ts';

async function world(answers: Record<string, string>, primary = '10.0.3.11') {
  const d = await mkdtemp(join(tmpdir(), 'tpa-follow-'));
  const bin = join(d, 'bin');
  const confDir = join(d, 'barman.d');
  await mkdir(bin);
  await mkdir(confDir);
  const script = join(d, 'follow.sh');
  await writeFile(script, renderFollowScript(), { mode: 0o755 });
  await writeFile(
    join(d, 'follow.conf'),
    renderFollowConf([{ server: 'main', addresses: ['10.0.3.11', '10.0.3.12', '10.0.3.13'] }]),
  );
  const conf = renderServerConf({
    server: 'main',
    group: 'acme',
    primaryAddress: primary,
    pgVersion: 15,
    retention: 'REDUNDANCY 1',
  });
  await writeFile(join(confDir, 'main.conf'), conf);
  await writeFile(
    join(d, 'answers'),
    Object.entries(answers)
      .map(([a, r]) => `${a} ${r}`)
      .join('\n') + '\n',
  );
  // env -C / runuser -u barman -- CMD...: the fakes drop the user switch
  await writeFile(join(bin, 'runuser'), '#!/bin/sh\nshift 3\nexec "$@"\n');
  await writeFile(
    join(bin, 'psql'),
    `#!/bin/sh
for a in "$@"; do case "$a" in *host=*) h=\${a#*host=}; h=\${h%% *} ;; esac; done
r=$(awk -v h="$h" '$1 == h { print $2 }' ${join(d, 'answers')})
[ -n "$r" ] || { echo "could not connect" >&2; exit 2; }
echo "$r"
`,
  );
  await writeFile(join(bin, 'barman'), `#!/bin/sh\necho "$*" >> ${join(d, 'barman.log')}\n`);
  for (const f of ['runuser', 'psql', 'barman']) await chmod(join(bin, f), 0o755);
  const run = () =>
    spawnSync('/bin/sh', [script], {
      encoding: 'utf8',
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        TPA_FOLLOW_CONF: join(d, 'follow.conf'),
        TPA_BARMAN_CONF_DIR: confDir,
        TPA_FOLLOW_LOCK: join(d, 'lock'),
      },
    });
  return {
    run,
    conf: () => readFile(join(confDir, 'main.conf'), 'utf8'),
    original: conf,
    barmanCalls: async () =>
      (await readFile(join(d, 'barman.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean),
    cleanup: () => rm(d, { recursive: true, force: true }),
  };
}

void test('the script is valid POSIX shell (sh -n, shellcheck)', () => {
  assert.deepEqual(shellProblems(renderFollowScript()), []);
});

void test('the primary moved to a higher timeline: both conninfos re-pointed, receive-wal restarted', async () => {
  const w = await world({ '10.0.3.11': 't|0', '10.0.3.12': 'f|2', '10.0.3.13': 't|0' });
  try {
    const r = w.run();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /main: the primary is now 10\.0\.3\.12 \(timeline 2\), was 10\.0\.3\.11/);
    const conf = await w.conf();
    assert.equal(conf, w.original.replaceAll('host=10.0.3.11 ', 'host=10.0.3.12 '));
    assert.match(conf, /^conninfo = host=10\.0\.3\.12 /m);
    assert.match(conf, /^streaming_conninfo = host=10\.0\.3\.12 /m);
    assert.deepEqual(await w.barmanCalls(), ['receive-wal --stop main', 'cron']);
    // a second run finds nothing to do
    const again = w.run();
    assert.equal(again.stdout, '');
    assert.equal((await w.barmanCalls()).length, 2);
  } finally {
    await w.cleanup();
  }
});

void test('a former primary that came back on the old timeline does not win', async () => {
  const w = await world({ '10.0.3.11': 'f|1', '10.0.3.12': 'f|2' }, '10.0.3.12');
  try {
    assert.equal(w.run().stdout, '');
    assert.equal(await w.conf(), w.original);
    assert.deepEqual(await w.barmanCalls(), []);
  } finally {
    await w.cleanup();
  }
});

void test('two primaries on one timeline, or nobody answering: nothing moves', async () => {
  const cases: Record<string, string>[] = [{ '10.0.3.12': 'f|1', '10.0.3.13': 'f|1' }, {}];
  for (const answers of cases) {
    const w = await world(answers);
    try {
      const r = w.run();
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(await w.conf(), w.original);
      assert.deepEqual(await w.barmanCalls(), []);
    } finally {
      await w.cleanup();
    }
  }
});

void test('cron line runs the script as root every minute', () => {
  assert.match(followCronLine(), /^\* \* \* \* \* root /);
});
