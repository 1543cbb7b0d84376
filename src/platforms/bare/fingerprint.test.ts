import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint } from './index.ts';

void test('host key fingerprints are the ones ssh-keygen shows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-fp-'));
  try {
    for (const type of ['ed25519', 'ecdsa', 'rsa']) {
      const key = join(dir, type);
      execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', key]);
      const blob = readFileSync(`${key}.pub`, 'utf8').split(' ')[1]!;
      const shown = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${key}.pub`], {
        encoding: 'utf8',
      });
      assert.equal(fingerprint(blob), shown.split(' ')[1]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
