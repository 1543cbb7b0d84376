import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, UsageError } from '../../core/errors.ts';
import { git } from '../../clusterdir/git.ts';
import { parseConfig } from '../../model/parse.ts';
import { BACKUP_MODES, DURABILITIES, POOLERS } from '../../model/schema.ts';
import { configure, type ConfigureRequest } from './index.ts';
import { validateClusterDir } from '../validate/index.ts';

let root: string;
const savedKey = process.env.TPA_SECRET_KEY;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tpa-configure-'));
  // the vault key stays in the environment of this test, never in ~/.config
  process.env.TPA_SECRET_KEY = randomBytes(32).toString('base64');
});
after(async () => {
  if (savedKey === undefined) delete process.env.TPA_SECRET_KEY;
  else process.env.TPA_SECRET_KEY = savedKey;
  await rm(root, { recursive: true, force: true });
});

function request(dir: string, over: Partial<ConfigureRequest> = {}): ConfigureRequest {
  return {
    dir: join(root, dir),
    architecture: 'M1',
    platform: 'lxc',
    replicas: 2,
    failoverManager: 'repmgr',
    pooler: 'pgbouncer',
    durability: 'async',
    backup: 'shared',
    clientCidrs: [],
    sshKeyFiles: [],
    addresses: [],
    clusterName: 'main',
    ...over,
  };
}

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

void test('configure -> validate round trip for every platform, backup mode, pooler, durability and 0-5 replicas', async () => {
  const combos: ConfigureRequest[] = [];
  for (const platform of ['lxc', 'aws', 'bare'] as const)
    for (const backup of BACKUP_MODES)
      for (const pooler of POOLERS)
        for (const durability of DURABILITIES)
          for (let replicas = 0; replicas <= 5; replicas++) {
            const hosts = replicas + 1 + (backup === 'none' ? 0 : 1);
            const name = `${platform}-${backup}-${pooler}-${durability}-${replicas}`;
            combos.push(
              request(name, {
                platform,
                backup,
                pooler,
                durability,
                replicas,
                addresses:
                  platform === 'bare' ? Array.from({ length: hosts }, (_, i) => `192.0.2.${i + 10}`) : [],
              }),
            );
          }
  assert.equal(combos.length, 3 * 3 * 2 * 2 * 6);
  await pool(combos, 6, async (req) => {
    const result = await configure(req);
    const report = await validateClusterDir(req.dir);
    assert.deepEqual(report.errors, [], req.dir);
    const { config } = parseConfig(await readFile(join(req.dir, 'config.yml'), 'utf8'));
    assert.ok(config, req.dir);
    const cluster = config.clusters[0]!;
    assert.equal(config.platform, req.platform);
    assert.equal(config.backup.mode, req.backup);
    assert.equal(cluster.pooler, req.pooler);
    assert.equal(cluster.durability, req.durability);
    assert.equal(cluster.nodes.filter((n) => n.role === 'replica').length, req.replicas);
    assert.deepEqual(
      cluster.nodes.map((n) => n.name),
      Array.from({ length: req.replicas + 1 }, (_, i) => `main-${i + 1}`),
    );
    assert.equal(config.services.length, req.backup === 'none' ? 0 : 1);
    if (req.platform === 'bare') {
      assert.deepEqual(
        [...cluster.nodes, ...config.services].map((h) => h.address),
        req.addresses,
      );
    }
    // the warnings configure reported are the ones validate finds
    assert.deepEqual(result.warnings, report.warnings);
    const expectWarning = (cond: boolean, path: string) =>
      assert.equal(
        report.warnings.some((w) => w.path === path),
        cond,
        `${req.dir}: warning ${path}`,
      );
    expectWarning(req.replicas === 0, 'clusters.0.nodes');
    expectWarning(req.backup === 'none', 'backup.mode');
    expectWarning(req.durability === 'sync' && req.replicas < 2, 'clusters.0.durability');
  });
});

void test('configure commits config.yml and the encrypted secrets, and nothing in plain', async () => {
  const req = request('committed');
  const result = await configure(req);
  assert.deepEqual(result.files.sort(), ['config.yml', 'secrets.enc.json', 'ssh/id_ed25519.pub']);
  assert.equal(result.generatedSshKey, true);
  const tracked = (await git(req.dir, ['ls-files'])).stdout.trim().split('\n').sort();
  assert.deepEqual(tracked, result.files.sort());
  assert.equal((await git(req.dir, ['status', '--porcelain'])).stdout, '');
  const log = (await git(req.dir, ['log', '--format=%H %s'])).stdout.trim().split('\n');
  assert.equal(log.length, 1);
  assert.equal(log[0], `${result.commit} configure: group committed on lxc`);
  const store = await readFile(join(req.dir, 'secrets.enc.json'), 'utf8');
  assert.doesNotMatch(store, /PRIVATE KEY/);
  assert.equal((await stat(join(req.dir, 'secrets.enc.json'))).mode & 0o077, 0);
  const text = await readFile(join(req.dir, 'config.yml'), 'utf8');
  assert.match(text.split('\n')[0]!, /^# yaml-language-server: \$schema=\/.*schema\/config\.schema\.json$/);
  const schemaPath = text.split('\n')[0]!.split('$schema=')[1]!;
  assert.ok((await stat(schemaPath)).isFile(), 'the schema line names an existing file');
});

void test('--ssh-key files are read; keys go into config.yml and no key pair is generated', async () => {
  const keyFile = join(root, 'alice.pub');
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID+5Y2BbwfT0NVCpZxVcm6lTGOemlAaEfdH4boSCCped alice@laptop';
  await writeFile(keyFile, `# alice\n${key}\n\n`);
  const req = request('with-key', { sshKeyFiles: [keyFile] });
  const result = await configure(req);
  assert.equal(result.generatedSshKey, false);
  const { config } = parseConfig(await readFile(join(req.dir, 'config.yml'), 'utf8'));
  assert.deepEqual(config?.access.ssh_authorized_keys, [key]);

  const privateFile = join(root, 'id_ed25519');
  await writeFile(
    privateFile,
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----\n',
  );
  await assert.rejects(configure(request('private-key', { sshKeyFiles: [privateFile] })), /private key/);
  await assert.rejects(
    configure(request('no-file', { sshKeyFiles: [join(root, 'missing.pub')] })),
    UsageError,
  );
  assert.deepEqual(
    (await readdir(root)).filter((f) => f === 'private-key' || f === 'no-file'),
    [],
  );
});

void test('bad options: ConfigError naming the option, nothing written', async () => {
  const cases: [Partial<ConfigureRequest>, string, RegExp][] = [
    [{ retention: '7 days' }, '--retention', /retention policy/],
    [{ backupSchedule: '0 2 * *' }, '--backup-schedule', /4 fields/],
    [{ clientCidrs: ['10.0.0.0/8', '1.2.3.4'] }, '--client-cidr', /no prefix length/],
    [{ instanceType: 'huge' }, '--instance-type', /not known on platform lxc/],
    [{ postgresVersion: 16 }, '--postgres-version', /not offered/],
    [{ postgresPackageVersion: '15.20' }, '--postgres-package-version', /not a whole Debian package version/],
    [{ failoverManager: 'patroni' }, '--failover-manager', /not implemented/],
    [{ clusterName: 'Main' }, '--cluster-name', /uppercase/],
    [{ groupName: 'acme_prod' }, '--group-name', /"_"/],
  ];
  for (const [over, option, message] of cases) {
    await assert.rejects(configure(request('bad', over)), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.exitCode, 2);
      assert.ok(
        e.issues.some((i) => i.file === option && message.test(i.message)),
        JSON.stringify(e.issues),
      );
      return true;
    });
    await assert.rejects(stat(join(root, 'bad')), /ENOENT/);
  }
  // the default group name comes from the directory: an invalid one gets a suggestion
  await assert.rejects(configure(request('Bad_Dir')), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.ok(e.issues.some((i) => i.hint === 'pass --group-name bad-dir'));
    return true;
  });
});

void test('bare needs one --address per host; other platforms take none', async () => {
  await assert.rejects(
    configure(request('bare-short', { platform: 'bare', replicas: 1, addresses: ['192.0.2.1'] })),
    (e: unknown) => e instanceof UsageError && /main-1, main-2, backup-1 \(3\); got 1/.test(e.message),
  );
  await assert.rejects(
    configure(request('lxc-addr', { addresses: ['192.0.2.1'] })),
    /for --platform bare only/,
  );
  await assert.rejects(
    configure(
      request('bare-bad', { platform: 'bare', replicas: 0, backup: 'none', addresses: ['not an address'] }),
    ),
    (e: unknown) => e instanceof ConfigError && e.issues[0]?.file === '--address',
  );
});

void test('configure refuses a directory that is not empty, and accepts an empty one', async () => {
  const dir = join(root, 'occupied');
  await mkdir(dir);
  await writeFile(join(dir, 'notes.txt'), 'mine\n');
  await assert.rejects(configure(request('occupied')), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /not empty/);
    return true;
  });
  assert.deepEqual(await readdir(dir), ['notes.txt']);
  await mkdir(join(root, 'empty'));
  const result = await configure(request('empty'));
  assert.ok(result.commit);
});

void test('a failure after writing started leaves no half-made directory', async () => {
  const saved = process.env.TPA_SECRET_KEY;
  process.env.TPA_SECRET_KEY = 'not-a-key';
  try {
    await assert.rejects(configure(request('half')));
    await assert.rejects(stat(join(root, 'half')), /ENOENT/);
    await mkdir(join(root, 'half-empty'));
    await assert.rejects(configure(request('half-empty')));
    assert.deepEqual(await readdir(join(root, 'half-empty')), []);
  } finally {
    process.env.TPA_SECRET_KEY = saved;
  }
});
