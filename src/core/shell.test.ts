import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { quote, raw, sh, type ShellValue } from './shell.ts';

/** what /bin/sh makes of `printf '%s\n' WORDS`: the words it received, one a line */
function words(text: string): string[] {
  const r = spawnSync('/bin/sh', ['-c', `printf '%s\\n' ${text}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').slice(0, -1);
}

function roundTrip(s: string): string {
  const r = spawnSync('/bin/sh', ['-c', `printf %s ${quote(s)}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

void test('each special character reaches sh as it was', () => {
  for (const s of [
    "it's",
    'a b',
    '$HOME',
    '`id`',
    'x\ny',
    '"q"',
    '\\',
    "'''",
    '*',
    '~',
    '#c',
    'a;b',
    'ü',
    '-n',
  ]) {
    assert.equal(roundTrip(s), s, JSON.stringify(s));
  }
  assert.equal(sh`echo ${"it's"}`, `echo 'it'\\''s'`);
  assert.equal(sh`echo ${'a b'} ${'$HOME'} ${'`id`'}`, "echo 'a b' '$HOME' '`id`'");
  assert.equal(sh`echo ${'x\ny'}`, "echo 'x\ny'");
});

void test('the empty string stays one (empty) word', () => {
  assert.equal(sh`f ${''} x`, "f '' x");
  assert.deepEqual(words(sh`${''} ${'x'}`), ['', 'x']);
});

void test('plain words and numbers stay bare', () => {
  assert.equal(sh`pg_ctlcluster ${15} ${'main'} start`, 'pg_ctlcluster 15 main start');
  assert.equal(sh`cat ${'/etc/postgresql/15/main/pg_hba.conf'}`, 'cat /etc/postgresql/15/main/pg_hba.conf');
  assert.equal(sh`sleep ${0.5} ${10n}`, 'sleep 0.5 10');
});

void test('an array is several words, each quoted on its own', () => {
  assert.equal(sh`apt-get install ${['a', 'b c', "d'e"]}`, `apt-get install a 'b c' 'd'\\''e'`);
  assert.deepEqual(words(sh`${['a', 'b c', '', '$x']}`), ['a', 'b c', '', '$x']);
  assert.equal(sh`ls ${[]}`, 'ls ');
  assert.equal(sh`x ${[raw('"$y"'), 'z z']}`, `x "$y" 'z z'`);
});

void test('raw goes in as it is, and a snippet built with sh nests through raw', () => {
  assert.equal(sh`[ -f ${raw('"$f"')} ] && echo ${'ok it is'}`, `[ -f "$f" ] && echo 'ok it is'`);
  const inner = sh`cat ${'a b'}`;
  assert.equal(sh`x=$(${raw(inner)})`, "x=$(cat 'a b')");
  assert.equal(sh`sh -c ${inner}`, `sh -c 'cat '\\''a b'\\'''`);
});

void test('undefined, null, objects and other non-words are refused with where they were', () => {
  const bad: unknown[] = [undefined, null, { a: 1 }, true, () => 1, NaN, Infinity, Symbol('s')];
  for (const v of bad) {
    assert.throws(
      () => sh`pg_ctlcluster ${v as ShellValue} main`,
      (e: Error) => e instanceof TypeError && /^sh: /.test(e.message) && e.message.includes('pg_ctlcluster'),
      String(typeof v),
    );
  }
  assert.throws(() => sh`x ${[['a'], undefined as unknown as string]}`, /undefined/);
});

void test('random strings round-trip through /bin/sh printf %s', () => {
  const alphabet = ` \t\n'"\`$\\!#&*()[]{};:<>?|~^%=,-./aZ09é`;
  for (let i = 0; i < 200; i++) {
    const bytes = randomBytes(1 + (i % 24));
    const s = [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
    assert.equal(roundTrip(s), s, JSON.stringify(s));
  }
  // any character but NUL (which no argv can hold)
  for (let i = 0; i < 50; i++) {
    const s = String.fromCodePoint(...Array.from({ length: 8 }, () => 1 + Math.floor(Math.random() * 0x7ff)));
    assert.equal(roundTrip(s), s, JSON.stringify(s));
  }
});
