import { test } from 'node:test';
import assert from 'node:assert/strict';
import ssh2 from 'ssh2';
import { generateSshKeyPair } from './generate.ts';

void test('every generated key pair reads back (ssh2 alone fails about one ed25519 pair in 256)', () => {
  for (let i = 0; i < 1500; i++) {
    const pair = generateSshKeyPair('t@x');
    assert.ok(!(ssh2.utils.parseKey(pair.privateKey) instanceof Error), `pair ${i}: private key unreadable`);
    assert.ok(!(ssh2.utils.parseKey(pair.publicKey) instanceof Error), `pair ${i}: public key unreadable`);
  }
});
