import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { parseCandidates, stackImageOf, stackScript, type StackRecipe } from './stack-image.ts';

const POLICY = `postgresql-15:
  Installed: (none)
  Candidate: 15.20-0+deb12u1
  Version table:
     15.20-0+deb12u1 500
        500 http://deb.example.org/debian bookworm/main amd64 Packages
pgbouncer:
  Installed: (none)
  Candidate: 1.18.0-1
`;

const recipe = (candidates: string[], packages = ['pgbouncer', 'postgresql-15']): StackRecipe => ({
  version: 1,
  base: 'tpa-base-0123abcd',
  preinstall: {
    packages,
    files: [
      {
        path: '/etc/postgresql-common/createcluster.d/tpa.conf',
        content: 'create_main_cluster = false\n',
        mode: 0o644,
      },
    ],
    quietUnits: ['pgbouncer'],
  },
  candidates,
});

void test('candidate versions are read per package; a package the lists do not know is "?"', () => {
  assert.deepEqual(parseCandidates(POLICY, ['postgresql-15', 'pgbouncer', 'repmgr']), [
    'postgresql-15=15.20-0+deb12u1',
    'pgbouncer=1.18.0-1',
    'repmgr=?',
  ]);
});

void test('a newer version in the mirror names a new stack of the same package list', () => {
  const a = stackImageOf(recipe(['pgbouncer=1.18.0-1', 'postgresql-15=15.18-0+deb12u1']));
  const b = stackImageOf(recipe(['pgbouncer=1.18.0-1', 'postgresql-15=15.20-0+deb12u1']));
  const c = stackImageOf(recipe(['pgbouncer=1.18.0-1'], ['pgbouncer']));
  assert.match(a.name, /^tpa-stack-[0-9a-f]{8}$/);
  assert.notEqual(a.name, b.name);
  assert.equal(a.listHash, b.listHash);
  assert.notEqual(a.listHash, c.listHash);
  assert.equal(stackImageOf(recipe(['pgbouncer=1.18.0-1', 'postgresql-15=15.18-0+deb12u1'])).name, a.name);
});

void test('the build script is valid sh: files before the install, the quiet unit disabled, no service started', () => {
  const script = stackScript(recipe([]).preinstall, '/var/lib/lxc/tpa-stack-x/rootfs');
  execFileSync('sh', ['-n'], { input: script });
  const file = script.indexOf('createcluster.d/tpa.conf');
  const install = script.indexOf('apt-get -q install');
  assert.ok(file > 0 && install > file, 'the createcluster file is written before the packages');
  assert.match(script, /policy-rc\.d/);
  assert.match(script, /-name pgbouncer\.service -type l -delete/);
  assert.match(script, /ssl-cert-snakeoil\.key/);
  // a daemon shipped as a SysV init script is disabled too (systemd would start it at boot)
  const withInit = stackScript({ ...recipe([]).preinstall, quietUnits: ['pgbouncer', 'repmgrd'] }, '/r');
  assert.match(
    withInit,
    /if \[ -e "\$R\/etc\/init\.d\/"repmgrd \]; then chroot "\$R" update-rc\.d repmgrd disable/,
  );
  execFileSync('sh', ['-n'], { input: withInit });
});
