import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acngConfig, parseListeners } from './apt-proxy.ts';
import {
  baseContainerName,
  bridgeName,
  containerName,
  groupPrefix,
  isGroupPrefix,
  nodeOfContainer,
  vethName,
} from './names.ts';
import { aptSources, configValue, hostsFile, nodeLxcConfig, type NodeLxcSettings } from './node-files.ts';
import { ownLayer } from './containers.ts';
import { baseRecipe, customiseScript, recipeHash } from './base-image.ts';

const settings: NodeLxcSettings = {
  container: 'tpa-abcdef-main-1',
  hostname: 'main-1',
  bridge: 'tpa-abcdef',
  veth: 'tpa-abcdef-11',
  address: '10.123.7.11',
  prefixLength: 24,
  gateway: '10.123.7.1',
  mac: '02:00:00:00:00:01',
  memoryMb: 1024,
  cpus: 1,
  cgroup: 'v1',
};

const CLONE = `lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
lxc.rootfs.path = overlay:/var/lib/lxc/tpa-base-1/rootfs:/var/lib/lxc/tpa-abcdef-main-1/delta0
lxc.include = /usr/share/lxc/config/debian.common.conf
lxc.uts.name = tpa-base-1
lxc.arch = amd64
`;

void test('names: prefix per directory, interface names within 15 characters', () => {
  const p = groupPrefix('acme', '/srv/acme');
  assert.ok(isGroupPrefix(p));
  assert.equal(p, groupPrefix('acme', '/srv/acme/'));
  assert.notEqual(p, groupPrefix('acme', '/srv/other/acme'));
  assert.ok(bridgeName(p).length <= 15);
  assert.ok(vethName(p, 254).length <= 15);
  assert.equal(nodeOfContainer(p, containerName(p, 'main-1')), 'main-1');
  assert.equal(nodeOfContainer(p, 'tpa-000000-main-1'), undefined);
  assert.match(baseContainerName('0123456789abcdef'), /^tpa-base-01234567$/);
});

void test('node config: tpa keys replace the clone ones, rootfs and includes kept', () => {
  const conf = nodeLxcConfig(CLONE, settings);
  assert.equal(configValue(conf, 'lxc.net.0.type'), 'veth');
  assert.equal(configValue(conf, 'lxc.net.0.link'), 'tpa-abcdef');
  assert.equal(configValue(conf, 'lxc.net.0.veth.pair'), 'tpa-abcdef-11');
  assert.equal(configValue(conf, 'lxc.net.0.ipv4.address'), '10.123.7.11/24');
  assert.equal(configValue(conf, 'lxc.net.0.ipv4.gateway'), '10.123.7.1');
  assert.equal(configValue(conf, 'lxc.uts.name'), 'main-1');
  assert.equal(configValue(conf, 'lxc.cgroup.memory.limit_in_bytes'), '1024M');
  assert.equal(configValue(conf, 'lxc.cgroup.cpu.cfs_quota_us'), '100000');
  assert.equal(conf.match(/^lxc\.net\.0\.type/gm)?.length, 1);
  assert.equal(ownLayer(conf), '/var/lib/lxc/tpa-abcdef-main-1/delta0');
  // converging an already converged config changes nothing
  assert.equal(nodeLxcConfig(conf, settings), conf);
});

void test('node config: cgroup v2 limits on a unified host', () => {
  const conf = nodeLxcConfig(CLONE, { ...settings, cgroup: 'v2', memoryMb: 2048, cpus: 2 });
  assert.equal(configValue(conf, 'lxc.cgroup2.memory.max'), '2048M');
  assert.equal(configValue(conf, 'lxc.cgroup2.cpu.max'), '200000 100000');
  assert.equal(configValue(conf, 'lxc.cgroup.memory.limit_in_bytes'), undefined);
});

void test('/etc/hosts: the node itself, every node and the host', () => {
  const text = hostsFile(
    'main-2',
    [
      { name: 'main-2', address: '10.123.7.12' },
      { name: 'main-1', address: '10.123.7.11' },
    ],
    '10.123.7.1',
  );
  assert.match(text, /^127\.0\.1\.1\tmain-2$/m);
  assert.match(text, /^10\.123\.7\.11\tmain-1$/m);
  assert.match(text, /^10\.123\.7\.12\tmain-2$/m);
  assert.match(text, /^10\.123\.7\.1\ttpa-host$/m);
});

void test('apt sources: main, updates and security from the mirrors given', () => {
  const text = aptSources(
    { main: 'http://m.example.org/debian', security: 'http://m.example.org/debian-security' },
    'bookworm',
  );
  assert.deepEqual(text.trim().split('\n'), [
    'deb http://m.example.org/debian bookworm main',
    'deb http://m.example.org/debian bookworm-updates main',
    'deb http://m.example.org/debian-security bookworm-security main',
  ]);
});

void test('apt-cacher-ng config is minimal: no Remap lines, bound to the proxy address', () => {
  const conf = acngConfig({ https: false });
  assert.doesNotMatch(conf, /Remap/);
  for (const key of ['CacheDir', 'LogDir', 'SupportDir', 'BindAddress', 'Port', 'PidFile']) {
    assert.match(conf, new RegExp(`^${key}: `, 'm'));
  }
  assert.match(conf, /^BindAddress: 10\.123\.0\.1$/m);
  assert.doesNotMatch(conf, /PassThroughPattern/);
  assert.match(acngConfig({ https: true }), /PassThroughPattern/);
});

void test('ss listeners parsed with their pids', () => {
  const out =
    'LISTEN 0      250       10.123.0.1:3142      0.0.0.0:*    users:(("apt-cacher-ng",pid=19956,fd=12))\n' +
    'LISTEN 0      250          0.0.0.0:3142      0.0.0.0:*\n';
  assert.deepEqual(parseListeners(out), [
    { local: '10.123.0.1:3142', pid: 19956 },
    { local: '0.0.0.0:3142' },
  ]);
});

void test('base recipe: its hash follows the mirrors; the script installs through the proxy', () => {
  const a = baseRecipe({ main: 'http://a.example.org/debian' });
  const b = baseRecipe({ main: 'http://b.example.org/debian' });
  assert.notEqual(recipeHash(a), recipeHash(b));
  assert.equal(recipeHash(a), recipeHash(baseRecipe({ main: 'http://a.example.org/debian' })));
  const script = customiseScript(a, '/r');
  assert.match(script, /Acquire::http::Proxy "http:\/\/10\.123\.0\.1:3142"/);
  assert.match(script, /apt-get -q install -y --no-install-recommends .*openssh-server.*sudo/);
  assert.match(script, /rm -f "\$R"\/etc\/ssh\/ssh_host_\*/);
});
