import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OperationError } from '../../core/errors.ts';
import { LocalTransport } from '../../transport/local.ts';
import {
  checkBareHost,
  parseOsRelease,
  parseProbe,
  problemsOf,
  PROBE_SCRIPT,
  type BareFacts,
} from './checks.ts';

const debian12 = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
ID=debian
`;

void test('os-release values are unquoted', () => {
  const os = parseOsRelease(debian12 + `X='single'\nY="a \\"q\\""\n# comment\n`);
  assert.equal(os.ID, 'debian');
  assert.equal(os.VERSION_ID, '12');
  assert.equal(os.PRETTY_NAME, 'Debian GNU/Linux 12 (bookworm)');
  assert.equal(os.X, 'single');
  assert.equal(os.Y, 'a "q"');
});

void test('the probe output becomes facts', () => {
  const facts = parseProbe(
    `uid=1000\nsudo=ok\nfree_kb=5242880\ncpus=2\nmem_kb=2048000\n--tpa-os-release--\n${debian12}`,
  );
  assert.deepEqual(facts, {
    uid: 1000,
    sudo: 'ok',
    osId: 'debian',
    osVersion: '12',
    osName: 'Debian GNU/Linux 12 (bookworm)',
    freeKb: 5242880,
    cpus: 2,
    memoryMb: 2000,
  });
  assert.deepEqual(problemsOf(facts, 'admin'), []);
});

void test('each unmet requirement is its own problem with a hint', () => {
  const facts: BareFacts = {
    uid: 1000,
    sudo: 'no',
    osId: 'ubuntu',
    osVersion: '22.04',
    osName: 'Ubuntu 22.04.4 LTS',
    freeKb: 1024 * 1024,
    cpus: 1,
    memoryMb: 512,
  };
  const problems = problemsOf(facts, 'admin');
  assert.deepEqual(
    problems.map((p) => p.check),
    ['sudo', 'os', 'disk'],
  );
  assert.match(problems[0]!.message, /admin is not root/);
  assert.match(problems[1]!.message, /Ubuntu 22.04.4 LTS.*not Debian 12/);
  assert.match(problems[2]!.message, /1\.0 GiB free/);
  assert.ok(problems.every((p) => p.hint.length > 0));
  assert.deepEqual(
    problemsOf({ ...facts, sudo: 'root', osId: 'debian', osVersion: '11' }, 'root').map((p) => p.check),
    ['os', 'disk'],
  );
});

void test('the probe runs on a real host (this one) and its verdict matches the machine', async () => {
  const local = new LocalTransport({ host: 'this-machine' });
  const facts = parseProbe((await local.exec(PROBE_SCRIPT)).stdout);
  const os = parseOsRelease(readFileSync('/etc/os-release', 'utf8'));
  assert.equal(facts.osId, os.ID);
  assert.equal(facts.osVersion, os.VERSION_ID);
  assert.equal(facts.uid, process.getuid?.());
  assert.ok(facts.freeKb !== undefined && facts.freeKb > 0);
  assert.ok(facts.cpus !== undefined && facts.cpus >= 1);
  const problems = problemsOf(facts, 'root');
  try {
    await checkBareHost(local, 'root');
    assert.deepEqual(problems, []);
  } catch (e) {
    assert.ok(e instanceof OperationError);
    assert.equal(e.host, 'this-machine');
    assert.match(e.message, /^this-machine: failed check/);
    assert.ok(problems.length > 0);
  }
});
