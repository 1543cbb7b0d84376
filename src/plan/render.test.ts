import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diff } from './diff.ts';
import { planJson, renderPlan } from './render.ts';
import type { DesiredHost } from './types.ts';
import { testFacts as facts } from '../../test/support/fixtures.ts';

const desired: DesiredHost[] = [
  {
    host: 'a',
    role: 'primary',
    phases: [
      { phase: 'common', resources: [{ kind: 'package', name: 'p' }] },
      {
        phase: 'postgres-primary',
        resources: [
          {
            kind: 'file',
            path: '/etc/k',
            content: 'pw=topsecret-1\n',
            mode: 0o600,
            owner: 'r',
            group: 'r',
            secret: true,
          },
          {
            kind: 'file',
            path: '/etc/c',
            content: 'x = 1\n',
            mode: 0o644,
            owner: 'r',
            group: 'r',
            notify: ['reload:u'],
          },
        ],
      },
    ],
  },
  { host: 'b', phases: [{ phase: 'pooler', resources: [{ kind: 'package', name: 'q' }] }] },
];

void test('text: grouped by host and phase, later phases marked pending, diffs shown, secrets not', () => {
  const plan = diff(desired, { a: facts('a'), b: facts('b') });
  const text = renderPlan(plan)
    .map((l) => `${l.style}|${l.text}`)
    .join('\n');
  assert.match(text, /^host\|a$/m);
  assert.match(text, /^phase\| {2}common$/m);
  assert.match(text, /^phase\| {2}postgres-primary \(pending earlier phases/m);
  assert.match(text, /^change\| {4}create \/etc\/c -> reload:u$/m);
  assert.match(text, /^add\| {6}\+x = 1$/m);
  assert.match(text, /^change\| {4}create \/etc\/k \(secret\)$/m);
  assert.match(text, /^phase\| {2}pooler \(pending/m);
  assert.ok(!text.includes('topsecret'));
});

void test('JSON: no content, stdin or verifier; counts and pending phases', () => {
  const plan = diff(
    [
      ...desired,
      {
        host: 'c',
        phases: [
          {
            phase: 'common',
            resources: [
              {
                kind: 'pg-role',
                name: 'r',
                verifier: 'SCRAM-SHA-256$4096:verifier-bytes',
                attributes: ['LOGIN'],
              },
              {
                kind: 'action',
                id: 'x',
                description: 'do x',
                command: 'cat',
                stdin: 'stdin-secret',
                needed: () => true,
              },
            ],
          },
        ],
      },
    ],
    { a: facts('a'), b: facts('b'), c: facts('c') },
  );
  const json = planJson(plan);
  const text = JSON.stringify(json);
  assert.equal(json.changes, 6);
  assert.deepEqual(json.pendingPhases, ['postgres-primary', 'pooler']);
  for (const hidden of ['topsecret', 'verifier-bytes', 'stdin-secret'])
    assert.ok(!text.includes(hidden), hidden);
  assert.deepEqual(
    json.hosts.find((h) => h.host === 'c')?.changes.map((c) => [c.kind, c.target]),
    [
      ['pg-role', 'r'],
      ['action', 'x'],
    ],
  );
});

void test('long diffs are cut in the text view', () => {
  const content = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n';
  const plan = diff(
    [
      {
        host: 'a',
        phases: [
          {
            phase: 'common',
            resources: [{ kind: 'file', path: '/f', content, mode: 0o644, owner: 'r', group: 'r' }],
          },
        ],
      },
    ],
    { a: facts('a') },
  );
  const lines = renderPlan(plan, { maxDiffLines: 10 });
  assert.match(lines.at(-1)?.text ?? '', /\.\.\. \d+ more lines/);
});
