/**
 * The probe and the retire command run in a real shell over real files; receive-wal is a real
 * process holding its lock with flock, as barman's does, and a stand-in `barman` records how
 * it was called and whether barman's cron lock was held at that moment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellProblems } from '../../../test/support/repmgr-fixtures.ts';
import { testFacts } from '../../../test/support/fixtures.ts';
import { MANAGED_HEADER } from './conf.ts';
import {
  leftoverServers,
  MANAGED_CONF_PROBE,
  managedConfsProbeCommand,
  parseManagedConfs,
  retireCommand,
  retireResources,
  type RetireEnv,
} from './retire.ts';

async function fixture() {
  const home = await mkdtemp(join(tmpdir(), 'tpa-retire-'));
  const confDir = join(home, 'etc');
  await mkdir(confDir);
  return { home, confDir, cronFile: join(home, 'tpa-barman') };
}

function sh(cmd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function backup(home: string, server: string, id: string, status: string) {
  await mkdir(join(home, server, 'base', id), { recursive: true });
  await writeFile(join(home, server, 'base', id, 'backup.info'), `status=${status}\n`);
}

void test('probe: only the files tpa wrote, with the complete backups each server keeps', async () => {
  const f = await fixture();
  try {
    await writeFile(join(f.confDir, 'main.conf'), `${MANAGED_HEADER}[main]\n`);
    await writeFile(join(f.confDir, 'old.conf'), `${MANAGED_HEADER}[old]\n`);
    await writeFile(join(f.confDir, 'hand.conf'), '[hand]\ndescription = "made by a person"\n');
    await writeFile(join(f.confDir, 'notes.txt'), MANAGED_HEADER);
    await backup(f.home, 'old', '20260101T020000', 'DONE');
    await backup(f.home, 'old', '20260102T020000', 'DONE');
    await backup(f.home, 'old', '20260103T020000', 'FAILED');
    const paths = { confDir: f.confDir, barmanHome: f.home, cronFile: f.cronFile };
    let r = sh(managedConfsProbeCommand(paths));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(parseManagedConfs(r.stdout), {
      servers: [
        { server: 'main', backups: 0 },
        { server: 'old', backups: 2 },
      ],
      cronFile: false,
    });
    await writeFile(f.cronFile, '# cron\n');
    r = sh(managedConfsProbeCommand(paths));
    assert.equal(parseManagedConfs(r.stdout).cronFile, true);
  } finally {
    await rm(f.home, { recursive: true, force: true });
  }
});

void test('probe: an empty or missing directory lists nothing and succeeds', async () => {
  const f = await fixture();
  try {
    const r = sh(
      managedConfsProbeCommand({ confDir: join(f.home, 'nope'), barmanHome: f.home, cronFile: f.cronFile }),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(parseManagedConfs(r.stdout), { servers: [], cronFile: false });
  } finally {
    await rm(f.home, { recursive: true, force: true });
  }
});

/** a receive-wal stand-in: a real process holding an exclusive flock on the lock file */
async function receiveWal(lock: string, pidFile: string): Promise<ChildProcess> {
  const child = spawn('sh', ['-c', `exec 9>'${lock}'; flock 9; echo $$ > '${pidFile}'; exec sleep 60`], {
    stdio: 'ignore',
  });
  const until = Date.now() + 5000;
  while (!existsSync(pidFile) || (await readFile(pidFile, 'utf8')).trim() === '') {
    if (Date.now() > until) throw new Error('the receive-wal stand-in did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}

async function retireEnv(home: string, confDir: string): Promise<RetireEnv> {
  const fake = join(home, 'barman');
  // records its arguments and whether barman's cron lock is taken, then stops "receive-wal"
  await writeFile(
    fake,
    [
      '#!/bin/sh',
      `if flock -n '${home}/.cron.lock' true; then c=free; else c=held; fi`,
      `echo "$* cron-lock=$c" >> '${home}/calls'`,
      `[ "$1" = receive-wal ] && [ "$2" = --stop ] && [ -f '${home}/pid' ] && kill "$(cat '${home}/pid')"`,
      'exit 0',
      '',
    ].join('\n'),
  );
  await chmod(fake, 0o755);
  return {
    confPath: (s) => join(confDir, `${s}.conf`),
    barmanHome: home,
    barman: (args) => `'${fake}' ${args.join(' ')}`,
    asBarman: (cmd) => cmd,
  };
}

void test('retire: receive-wal stopped under the cron lock, then the file removed; backups stay', async () => {
  const f = await fixture();
  let child: ChildProcess | undefined;
  try {
    const conf = join(f.confDir, 'old.conf');
    await writeFile(conf, `${MANAGED_HEADER}[old]\n`);
    await backup(f.home, 'old', '20260101T020000', 'DONE');
    child = await receiveWal(join(f.home, '.old-receive-wal.lock'), join(f.home, 'pid'));
    const env = await retireEnv(f.home, f.confDir);
    const cmd = retireCommand('old', env);
    const r = sh(cmd);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(conf), false, 'the server file is gone');
    assert.equal(
      (await readFile(join(f.home, 'calls'), 'utf8')).trim(),
      'receive-wal --stop old cron-lock=held',
    );
    assert.equal(
      existsSync(join(f.home, 'old', 'base', '20260101T020000', 'backup.info')),
      true,
      'backups kept',
    );
    // the lock is free again: nothing holds it once the script is done
    assert.equal(sh(`flock -n '${f.home}/.cron.lock' true`).status, 0);
    // again, with the file gone: nothing to do
    assert.equal(sh(cmd).status, 0);
  } finally {
    child?.kill();
    await rm(f.home, { recursive: true, force: true });
  }
});

void test('retire: a file someone else wrote is left alone, and barman is not called', async () => {
  const f = await fixture();
  try {
    const conf = join(f.confDir, 'old.conf');
    await writeFile(conf, '[old]\ndescription = "by hand"\n');
    const env = await retireEnv(f.home, f.confDir);
    const r = sh(retireCommand('old', env));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /was not written by tpa: left as it is/);
    assert.equal(existsSync(conf), true);
    assert.equal(existsSync(join(f.home, 'calls')), false);
  } finally {
    await rm(f.home, { recursive: true, force: true });
  }
});

void test('retire actions: one per leftover server; the plan says where the backups stay', () => {
  const facts = (raw: string) => testFacts('backup-1', { probes: { [MANAGED_CONF_PROBE]: raw } });
  const before = facts('server=main backups=1\nserver=old backups=3\nserver=gone backups=0\ncron=1');
  const left = leftoverServers(before, ['main']);
  assert.deepEqual(
    left.map((l) => l.server),
    ['old', 'gone'],
  );
  const [old, gone] = retireResources(left) as Extract<
    ReturnType<typeof retireResources>[number],
    { kind: 'action' }
  >[];
  assert.equal(old!.id, 'barman-retire-old');
  assert.match(old!.description, /remove \/etc\/barman\.d\/old\.conf/);
  assert.match(old!.description, /its 3 backups and WAL stay in \/var\/lib\/barman\/old/);
  assert.match(gone!.description, /its WAL stays in \/var\/lib\/barman\/gone/);
  assert.equal(old!.needed(before), true);
  assert.equal(old!.needed(facts('server=main backups=1\nserver=gone backups=0')), false);
  for (const a of [old!, gone!]) {
    assert.deepEqual(shellProblems(a.command), [], a.id);
    // the server's directory is never removed
    assert.doesNotMatch(a.command, /rm [^\n]*\/var\/lib\/barman/);
    assert.ok(a.command.indexOf('receive-wal') < a.command.indexOf('rm -f'), 'stopped before removed');
  }
});
