import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectingSink } from '../../core/events.ts';
import { progressSink } from './progress.ts';

void test('apt and debootstrap output become a progress line every few seconds, with counts', () => {
  const sink = collectingSink();
  const p = progressSink(sink, 'stack image', 0);
  const out = (text: string) => p({ kind: 'output', host: 'localhost', stream: 'stdout', text });
  out('Reading package lists...');
  out('Get:1 http://deb.example.org/debian bookworm/main amd64 postgresql-15 15.20-0+deb12u1 [17 MB]');
  out('Unpacking postgresql-15 (15.20-0+deb12u1) ...');
  out('Setting up postgresql-15 (15.20-0+deb12u1) ...');
  out('I: Retrieving Packages');
  const infos = sink.events.filter((e) => e.kind === 'info').map((e) => (e.kind === 'info' ? e.message : ''));
  assert.deepEqual(infos, [
    'stack image: downloading postgresql-15 15.20-0+deb12u1 [17 MB] (1 downloaded, 0 set up so far)',
    'stack image: Unpacking postgresql-15 (15.20-0+deb12u1) ... (1 downloaded, 0 set up so far)',
    'stack image: Setting up postgresql-15 (15.20-0+deb12u1) ... (1 downloaded, 1 set up so far)',
    'stack image: Retrieving Packages (1 downloaded, 1 set up so far)',
  ]);
  // the output itself still reaches the sink (shown with TPA_VERBOSE)
  assert.equal(sink.events.filter((e) => e.kind === 'output').length, 5);
});

void test('at most one line per interval', () => {
  const sink = collectingSink();
  const p = progressSink(sink, 'base image', 60_000);
  for (let i = 0; i < 50; i++)
    p({ kind: 'output', host: 'localhost', stream: 'stdout', text: `Setting up pkg${i} (1.0) ...` });
  assert.equal(sink.events.filter((e) => e.kind === 'info').length, 1);
});
