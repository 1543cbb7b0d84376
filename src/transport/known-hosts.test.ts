import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  formatKnownHostsLine,
  hostPattern,
  lookupHostKey,
  parseKnownHostsLine,
  readKnownHosts,
  recordHostKey,
  removeHostKey,
} from './known-hosts.ts';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-kh-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void test('host patterns follow OpenSSH: bracketed with a port other than 22', () => {
  assert.equal(hostPattern('10.0.0.5', 22), '10.0.0.5');
  assert.equal(hostPattern('10.0.0.5', 2222), '[10.0.0.5]:2222');
  assert.equal(
    formatKnownHostsLine('10.0.0.5', 2222, 'ssh-ed25519', 'AAAA'),
    '[10.0.0.5]:2222 ssh-ed25519 AAAA',
  );
});

void test('parsing skips comments, markers and hashed names, and keeps host lists', () => {
  assert.equal(parseKnownHostsLine('# comment'), undefined);
  assert.equal(parseKnownHostsLine('@revoked * ssh-rsa AAAA'), undefined);
  assert.equal(parseKnownHostsLine('|1|abc=|def= ssh-ed25519 AAAA'), undefined);
  assert.equal(parseKnownHostsLine('host-only'), undefined);
  assert.deepEqual(parseKnownHostsLine('a,[b]:23  ssh-ed25519 AAAA comment'), {
    hosts: ['a', '[b]:23'],
    keyType: 'ssh-ed25519',
    key: 'AAAA',
  });
});

void test('a missing file has no keys', () => {
  withDir((dir) => {
    assert.deepEqual(readKnownHosts(join(dir, 'known_hosts')), []);
    assert.equal(lookupHostKey(join(dir, 'known_hosts'), '10.0.0.5', 22), undefined);
  });
});

void test("record replaces the host's old key, keeps other lines, and is idempotent", () => {
  withDir((dir) => {
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, '# managed by tpa\n10.0.0.9 ssh-ed25519 OTHER\n[10.0.0.5]:2222 ssh-rsa OLDRSA\n');
    assert.equal(recordHostKey(kh, '10.0.0.5', 2222, 'ssh-ed25519', 'NEW'), true);
    assert.equal(
      readFileSync(kh, 'utf8'),
      '# managed by tpa\n10.0.0.9 ssh-ed25519 OTHER\n[10.0.0.5]:2222 ssh-ed25519 NEW\n',
    );
    assert.equal(recordHostKey(kh, '10.0.0.5', 2222, 'ssh-ed25519', 'NEW'), false, 'unchanged');
    assert.deepEqual(lookupHostKey(kh, '10.0.0.5', 2222), {
      hosts: ['[10.0.0.5]:2222'],
      keyType: 'ssh-ed25519',
      key: 'NEW',
    });
    assert.equal(lookupHostKey(kh, '10.0.0.5', 22), undefined, 'the port is part of the name');
    assert.equal(statSync(kh).mode & 0o777, 0o644);
  });
});

void test('remove forgets only that host', () => {
  withDir((dir) => {
    const kh = join(dir, 'known_hosts');
    recordHostKey(kh, '10.0.0.5', 22, 'ssh-ed25519', 'K1');
    recordHostKey(kh, '10.0.0.6', 22, 'ssh-ed25519', 'K2');
    assert.equal(removeHostKey(kh, '10.0.0.5', 22), true);
    assert.equal(removeHostKey(kh, '10.0.0.5', 22), false);
    assert.equal(readFileSync(kh, 'utf8'), '10.0.0.6 ssh-ed25519 K2\n');
  });
});
