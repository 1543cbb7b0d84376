import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { collectingSink } from '../core/events.ts';
import { atomicWriteScript, redact, StreamCollector, sudoWrap } from './shell.ts';

void test('sudoWrap runs the whole command as one sh -c argument', () => {
  const cmd = `echo "it's" | tr a-z A-Z; echo $((2*3))`;
  const wrapped = sudoWrap(cmd);
  assert.match(wrapped, /^sudo -n sh -c '/);
  // what sudo would exec: drop the `sudo -n` prefix and let sh run the rest
  const r = spawnSync('/bin/sh', ['-c', wrapped.replace(/^sudo -n /, '')], { encoding: 'utf8' });
  assert.equal(r.stdout, "IT'S\n6\n");
});

void test('redact hides every secret, overlapping ones included', () => {
  assert.equal(redact('pw=abcdef and abc', ['abc', 'abcdef']), 'pw=*** and ***');
  assert.equal(redact('nothing', ['']), 'nothing');
  assert.equal(redact('same', undefined), 'same');
});

void test('StreamCollector keeps everything and emits whole lines', () => {
  const sink = collectingSink();
  const c = new StreamCollector('h', 'stderr', sink, ['sec' + 'ret']);
  c.push(Buffer.from('one se'));
  c.push(Buffer.from('cret\ntw'));
  c.push(Buffer.from('o'));
  assert.equal(c.finish(), 'one secret\ntwo');
  assert.deepEqual(sink.events, [
    { kind: 'output', host: 'h', stream: 'stderr', text: 'one ***' },
    { kind: 'output', host: 'h', stream: 'stderr', text: 'two' },
  ]);
});

void test('atomicWriteScript refuses a directory path and quotes odd names', () => {
  assert.throws(() => atomicWriteScript('/etc/'), /not a file path/);
  const s = atomicWriteScript("/tmp/it's here", { mode: 0o600, owner: 'postgres' });
  assert.match(s, /mv -f "\$t" '\/tmp\/it'\\''s here'/);
  assert.match(s, /chmod 0600 "\$t"/);
  assert.match(s, /chown postgres "\$t"/);
});
