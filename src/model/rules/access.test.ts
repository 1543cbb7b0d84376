import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config, ED25519_KEY } from '../testdata/fixtures.ts';
import { found } from '../testdata/check.ts';
import { clientAuthMethod, sshAuthorizedKeys } from './access.ts';

void test('sshAuthorizedKeys: malformed keys are errors, a repeated key a warning', () => {
  assert.deepEqual(found(sshAuthorizedKeys, config()), []);
  const [, blob] = ED25519_KEY.split(' ');
  const bad = config((c) => {
    c.access!.ssh_authorized_keys = [
      ED25519_KEY,
      `ssh-rsa ${blob}`,
      'AAAAC3NzaC1lZDI1NTE5',
      `${ED25519_KEY.split(' ').slice(0, 2).join(' ')} bob`,
    ];
  });
  assert.deepEqual(found(sshAuthorizedKeys, bad), [
    'error access.ssh_authorized_keys.1: SSH public key says "ssh-rsa" but its key data is a "ssh-ed25519" key',
    'error access.ssh_authorized_keys.2: SSH public key has unknown key type "AAAAC3NzaC1lZDI1NTE5"',
    'warning access.ssh_authorized_keys.3: the same key as access.ssh_authorized_keys.0',
  ]);
});

void test('clientAuthMethod: md5 is a warning', () => {
  assert.deepEqual(found(clientAuthMethod, config()), []);
  const md5 = config((c) => {
    c.access!.client_auth = 'md5';
  });
  assert.deepEqual(found(clientAuthMethod, md5), [
    'warning access.client_auth: md5 password authentication is legacy and weaker than scram-sha-256',
  ]);
});
