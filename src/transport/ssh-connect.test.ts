/**
 * Connecting: timeouts, retries, host keys, authentication, sudo. Real sshd, real sockets.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectingSink } from '../core/events.ts';
import { ConnectionError, HostKeyMismatchError, RemoteCommandError } from '../core/errors.ts';
import { SshTransport } from './ssh.ts';
import { lookupHostKey, recordHostKey } from './known-hosts.ts';
import { freePort, sshdSkipReason, startTestSshd, type TestSshd } from '../../test/support/sshd.ts';

const skip = sshdSkipReason();

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
}

// a skipped describe registers no tests; one skipped test keeps the skip visible in the counts
if (skip) void test('SSH connections (against a real sshd)', { skip }, () => {});
else suite();

function suite(): void {
  void describe('SSH connections', () => {
    let sshd: TestSshd;
    let work: string;
    before(async () => {
      sshd = await startTestSshd();
      work = mkdtempSync(join(tmpdir(), 'tpa-ssh-conn-'));
    });
    after(async () => {
      await sshd?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    void test('a port that accepts TCP but never speaks SSH fails fast with ConnectionError', async () => {
      const sockets: Socket[] = [];
      let accepted = 0;
      const silent = createServer((s) => {
        accepted++;
        sockets.push(s);
      });
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const port = (silent.address() as { port: number }).port;
      const tr = new SshTransport(sshd.target({ port }), { connectTimeoutMs: 1000 });
      try {
        const started = Date.now();
        const err = await rejection(tr.exec('true'));
        const took = Date.now() - started;
        assert.ok(err instanceof ConnectionError, String(err));
        assert.equal(err.host, 'test-node');
        assert.match(err.message, /no SSH session within 1 s/);
        assert.match(err.hint ?? '', /frozen/);
        assert.ok(took >= 900 && took < 2500, `took ${took} ms`);
        assert.equal(accepted, 1, 'a timeout is not retried');
      } finally {
        await tr.close();
        for (const s of sockets) s.destroy();
        await new Promise((r) => silent.close(r));
      }
    });

    void test('a refused connection is retried with backoff until sshd comes up', async () => {
      const port = await freePort();
      const sink = collectingSink();
      const tr = new SshTransport(sshd.target({ port, hostKey: undefined }), {
        connectRetries: 6,
        retryDelayMs: 200,
        events: sink,
      });
      let late: TestSshd | undefined;
      try {
        const result = tr.exec('echo up');
        await new Promise((r) => setTimeout(r, 500));
        late = await startTestSshd({ port, authorize: [sshd.clientPublicKey] });
        assert.equal((await result).stdout, 'up\n');
        const warnings = sink.events.filter((e) => e.kind === 'warning');
        assert.ok(warnings.length >= 1, 'each retry is reported');
        assert.match(JSON.stringify(warnings[0]), /ECONNREFUSED.*trying again/);
        assert.equal(tr.connectionCount, 1);
      } finally {
        await tr.close();
        await late?.stop();
      }
    });

    void test('retries give up with a ConnectionError naming host and hint', async () => {
      const port = await freePort();
      const sink = collectingSink();
      const tr = new SshTransport(sshd.target({ port }), {
        connectRetries: 2,
        retryDelayMs: 50,
        events: sink,
      });
      const err = await rejection(tr.exec('true'));
      assert.ok(err instanceof ConnectionError);
      assert.match(
        err.message,
        new RegExp(`test-node: cannot connect to root@127.0.0.1:${port}: ECONNREFUSED`),
      );
      assert.match(err.hint ?? '', /sshd listens/);
      assert.equal(sink.events.length, 2, 'two retries after the first attempt');
      await tr.close();
    });

    void test('a different host key is a HostKeyMismatchError and is not retried', async () => {
      spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'other')]);
      const otherKey = readFileSync(join(work, 'other.pub'), 'utf8').split(' ')[1]!;
      const before = sshd.connections();
      const loginsBefore = sshd.logins();
      const tr = new SshTransport(sshd.target({ host: 'main-1', hostKey: otherKey }), {
        knownHostsPath: '/srv/cluster/known_hosts',
      });
      const err = await rejection(tr.exec('true'));
      assert.ok(err instanceof HostKeyMismatchError, String(err));
      assert.equal(err.host, 'main-1');
      assert.match(
        err.message,
        /main-1: the SSH host key of 127\.0\.0\.1:\d+ \(ssh-ed25519\) is not the one recorded/,
      );
      assert.match(err.hint ?? '', /tpa provision/);
      assert.match(err.hint ?? '', /\/srv\/cluster\/known_hosts/);
      assert.equal(sshd.connections() - before, 1);
      assert.equal(sshd.logins(), loginsBefore, 'never authenticated');
      await tr.close();
    });

    void test('an unrecorded host key is accepted and reported; recorded, it works with tpa and OpenSSH', async () => {
      const seen: [string, string][] = [];
      const tr = new SshTransport(
        sshd.target({ hostKey: undefined, onHostKey: (key, type) => seen.push([key, type]) }),
      );
      await tr.exec('true');
      await tr.close();
      assert.deepEqual(seen, [[sshd.hostKey, 'ssh-ed25519']]);

      const kh = join(work, 'known_hosts');
      recordHostKey(kh, sshd.address, sshd.port, seen[0]![1], seen[0]![0]);
      const pinned = lookupHostKey(kh, sshd.address, sshd.port);
      assert.equal(pinned?.key, sshd.hostKey);
      const strict = new SshTransport(sshd.target({ hostKey: pinned.key }));
      assert.equal((await strict.exec('echo pinned')).stdout, 'pinned\n');
      await strict.close();

      // the same file serves OpenSSH's own client
      const keyFile = join(work, 'id');
      writeFileSync(keyFile, sshd.clientKey, { mode: 0o600 });
      const ssh = (file: string) =>
        spawnSync(
          'ssh',
          [
            '-o',
            'BatchMode=yes',
            '-o',
            'StrictHostKeyChecking=yes',
            '-o',
            `UserKnownHostsFile=${file}`,
            '-o',
            'GlobalKnownHostsFile=/dev/null',
            '-i',
            keyFile,
            '-p',
            String(sshd.port),
            'root@127.0.0.1',
            'echo via-openssh',
          ],
          { encoding: 'utf8', timeout: 20_000 },
        );
      assert.equal(ssh(kh).stdout, 'via-openssh\n');
      writeFileSync(join(work, 'empty_known_hosts'), '');
      assert.notEqual(ssh(join(work, 'empty_known_hosts')).status, 0, 'OpenSSH really checks the file');
    });

    void test('a refused key is a ConnectionError about authentication, not retried', async () => {
      spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'stranger')]);
      const tr = new SshTransport(sshd.target({ privateKey: readFileSync(join(work, 'stranger')) }));
      const before = sshd.connections();
      const err = await rejection(tr.exec('true'));
      assert.ok(err instanceof ConnectionError);
      assert.match(err.message, /the key was refused for user root/);
      assert.match(err.hint ?? '', /authorized_keys/);
      assert.equal(sshd.connections() - before, 1);
      await tr.close();
    });

    const sudoSkip = sudoSkipReason();
    if (sudoSkip) void test('as a non-root user with sudo', { skip: sudoSkip }, () => {});
    else sudoSuite();

    function sudoSuite(): void {
      void describe('as a non-root user with sudo', () => {
        const user = 'tpatest';
        const sudoers = `/etc/sudoers.d/${user}-test`;
        before(() => {
          run('useradd', ['-m', '-s', '/bin/bash', user]);
          run('usermod', ['-p', '*', user]); // unlocked for sshd without PAM, but no password
          writeFileSync(sudoers, `${user} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
        });
        after(() => {
          rmSync(sudoers, { force: true });
          spawnSync('userdel', ['-r', user], { stdio: 'ignore' });
        });

        void test('commands run as the user, or as root through sudo -n, quoting and stdin intact', async () => {
          const tr = new SshTransport(sshd.target({ user }));
          try {
            assert.equal((await tr.exec('id -un')).stdout, `${user}\n`);
            assert.equal((await tr.exec('id -un', { sudo: true })).stdout, 'root\n');
            const tricky = `printf '%s|' "it's" 'a "b"' \`id -u\`; cat`;
            assert.equal(
              (await tr.exec(tricky, { sudo: true, stdin: 'secret-in' })).stdout,
              `it's|a "b"|0|secret-in`,
            );
            assert.match(tr.remoteCommand('id', { sudo: true }), /^sudo -n timeout /);
            const err = await rejection(tr.exec('cat /etc/shadow >/dev/null'));
            assert.ok(err instanceof RemoteCommandError, 'without sudo the user has no root rights');
          } finally {
            await tr.close();
          }
        });

        void test('upload with sudo writes a root-owned file where the user cannot', async () => {
          const dir = mkdtempSync(join(tmpdir(), 'tpa-root-only-'));
          const tr = new SshTransport(sshd.target({ user }));
          try {
            const path = join(dir, 'secret.conf');
            await rejection(tr.upload(path, 'x'));
            await tr.upload(path, 'password=s3cret\n', {
              sudo: true,
              mode: 0o600,
              owner: 'root',
              group: 'root',
            });
            assert.equal(readFileSync(path, 'utf8'), 'password=s3cret\n');
            const st = statSync(path);
            assert.deepEqual([st.mode & 0o777, st.uid, st.gid], [0o600, 0, 0]);
          } finally {
            await tr.close();
            rmSync(dir, { recursive: true, force: true });
          }
        });
      });
    }
  });
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

function sudoSkipReason(): string | undefined {
  if (skip) return skip;
  if (spawnSync('sudo', ['-V'], { stdio: 'ignore' }).error)
    return 'sudo is not installed (scripts/install-host-deps.sh)';
  if (spawnSync('id', ['tpatest'], { stdio: 'ignore' }).status === 0) return 'a user tpatest already exists';
  return undefined;
}
