import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDeb822, parseOneLine, pickMirrors, readHostMirrors } from './mirror.ts';

// Mirror host names are made up (example.org): tpa never writes a real mirror into the repository.
const DEB822 = `Types: deb
# a comment
URIs: http://mirror.example.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example.org/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.example.org/debian
Suites: bookworm
Components: main
`;

void test('deb822: main and security mirrors, deb-src ignored', () => {
  const entries = parseDeb822(DEB822);
  assert.equal(entries.length, 2);
  assert.deepEqual(pickMirrors(entries), {
    main: 'http://mirror.example.org/debian',
    security: 'http://mirror.example.org/debian-security',
  });
});

void test('deb822: a disabled stanza does not count', () => {
  const entries = parseDeb822(
    'Types: deb\nEnabled: no\nURIs: http://a.example.org/debian\nSuites: bookworm\n',
  );
  assert.deepEqual(entries, []);
});

void test('one-line sources.list with options and comments', () => {
  const entries = parseOneLine(
    '# deb http://old.example.org/debian bookworm main\n' +
      'deb [arch=amd64 signed-by=/k.gpg] http://m.example.org/debian/ bookworm main contrib\n' +
      'deb http://s.example.org/debian-security bookworm-security main\n',
  );
  assert.deepEqual(pickMirrors(entries), {
    main: 'http://m.example.org/debian',
    security: 'http://s.example.org/debian-security',
  });
});

void test('no http mirror: nothing picked (file: and cdrom: cannot go through the proxy)', () => {
  assert.equal(pickMirrors(parseOneLine('deb file:/srv/debian bookworm main\n')), undefined);
});

void test('readHostMirrors reads a host tree and fails clearly when it has no mirror', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tpa-mirror-'));
  try {
    await mkdir(join(root, 'etc/apt/sources.list.d'), { recursive: true });
    await assert.rejects(readHostMirrors(root), /no Debian mirror found/);
    await writeFile(join(root, 'etc/apt/sources.list.d/debian.sources'), DEB822);
    const m = await readHostMirrors(root);
    assert.equal(m.main, 'http://mirror.example.org/debian');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
