import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import {
  addCluster,
  addNode,
  addService,
  removeCluster,
  removeNode,
  setField,
  setPackagePin,
  setNodeField,
  setNodeUpstream,
  swapPrimary,
} from './config-edits.ts';

const TEXT = `# the acme group
name: acme
platform: lxc
clusters:
  # the main cluster
  - name: main
    nodes:
      - { name: main-1, role: primary }   # the first
      - { name: main-2, role: replica }
      - { name: main-3, role: replica, upstream: main-2 }

# backups
services:
  - { name: backup-1, role: barman }
`;

type Doc = {
  clusters: { name: string; nodes: { name: string; role: string; upstream?: string }[] }[];
  services: { name: string }[];
};
const read = (t: string) => parse(t) as Doc;

void test('a cluster is added as lines after the last one: every other byte stays, comments too', () => {
  const out = addCluster(TEXT, { name: 'pitr', nodes: [{ name: 'pitr-1', role: 'primary' }] }, ' restored');
  assert.ok(out.startsWith(TEXT.slice(0, TEXT.indexOf('\n# backups'))));
  assert.ok(out.endsWith(TEXT.slice(TEXT.indexOf('\n# backups'))));
  assert.match(out, /# restored\n {2}- name: pitr\n {4}nodes:\n {6}- \{ name: pitr-1, role: primary \}\n/);
  assert.deepEqual(
    read(out).clusters.map((c) => c.name),
    ['main', 'pitr'],
  );
  // removing it again gives the text from before, byte for byte
  assert.equal(removeCluster(out, 'pitr', { original: TEXT, written: out }), TEXT);
  // also after someone changed another part of the file meanwhile
  const touched = out.replace('platform: lxc', 'platform: lxc # edited');
  assert.equal(
    removeCluster(touched, 'pitr', { original: TEXT, written: out }),
    TEXT.replace('platform: lxc', 'platform: lxc # edited'),
  );
  // and without knowing what was written: the entry is taken out of the document
  assert.deepEqual(
    read(removeCluster(out, 'pitr')).clusters.map((c) => c.name),
    ['main'],
  );
  assert.equal(removeCluster(TEXT, 'nope'), TEXT);
});

void test('a service is added to a flow-style list, and to a file without services', () => {
  const out = addService(TEXT, { name: 'pitr-barman', role: 'barman' });
  assert.deepEqual(
    read(out).services.map((s) => s.name),
    ['backup-1', 'pitr-barman'],
  );
  assert.match(out, /# the main cluster/);
  const none = addService('name: acme\nclusters: []\n', { name: 'b', role: 'barman' });
  assert.deepEqual(parse(none), { name: 'acme', clusters: [], services: [{ name: 'b', role: 'barman' }] });
});

void test('nodes are added and removed; comments elsewhere stay', () => {
  const added = addNode(TEXT, 'main', { name: 'main-4', role: 'replica' });
  assert.deepEqual(
    read(added).clusters[0]!.nodes.map((n) => n.name),
    ['main-1', 'main-2', 'main-3', 'main-4'],
  );
  assert.ok(added.startsWith(TEXT.slice(0, TEXT.indexOf('\n# backups'))));
  const removed = removeNode(added, 'main', 'main-2');
  assert.deepEqual(
    read(removed).clusters[0]!.nodes.map((n) => n.name),
    ['main-1', 'main-3', 'main-4'],
  );
  assert.match(removed, /# the first/);
  assert.throws(() => addNode(TEXT, 'nope', { name: 'x' }), /no cluster nope/);
});

void test('a new node is one line like its siblings; a node field and its upstream change in its line', () => {
  const added = addNode(TEXT, 'main', { name: 'main-4', role: 'replica', upstream: 'main-3' });
  assert.ok(added.includes('      - { name: main-4, role: replica, upstream: main-3 }\n'), added);
  const moved = setNodeUpstream(added, 'main', 'main-4', undefined);
  assert.ok(moved.includes('      - { name: main-4, role: replica }\n'), moved);
  assert.equal(setNodeUpstream(moved, 'main', 'main-4', undefined), moved, 'nothing to change');
  const pinned = setNodeField(moved, 'main', 'main-3', 'node_id', 3);
  assert.ok(
    pinned.includes('      - { name: main-3, role: replica, upstream: main-2, node_id: 3 }\n'),
    pinned,
  );
  assert.match(pinned, /# the first/);
});

void test('swapping the primary: the old one becomes a replica, followers of the new one follow nobody', () => {
  const out = swapPrimary(TEXT, 'main', 'main-2');
  assert.deepEqual(read(out).clusters[0]!.nodes, [
    { name: 'main-1', role: 'replica' },
    { name: 'main-2', role: 'primary' },
    { name: 'main-3', role: 'replica' },
  ]);
  assert.match(out, /# the acme group/);
  assert.equal(swapPrimary(TEXT, 'main', 'main-1'), TEXT);
  assert.throws(() => swapPrimary(TEXT, 'main', 'main-9'), /no node main-9/);
});

void test('a field is set in place', () => {
  const out = setField(TEXT, ['clusters', 0, 'durability'], 'sync');
  assert.equal((parse(out) as { clusters: { durability: string }[] }).clusters[0]!.durability, 'sync');
  assert.match(out, /# backups/);
});

interface Pinned {
  postgres?: { package_version?: string };
  clusters: { postgres_package_version?: string }[];
}
const pins = (text: string) => parse(text) as Pinned;

void test('the package pin: one cluster, then the whole group (the cluster pin goes); again changes nothing', () => {
  const one = setPackagePin(TEXT, '15.20-0+deb12u1', 'main');
  assert.equal(pins(one).clusters[0]?.postgres_package_version, '15.20-0+deb12u1');
  assert.match(one, /# the acme group[\s\S]*# the main cluster[\s\S]*# the first/);
  const group = setPackagePin(one, '15.20-0+deb12u1');
  assert.equal(pins(group).postgres?.package_version, '15.20-0+deb12u1');
  assert.equal(pins(group).clusters[0]?.postgres_package_version, undefined);
  assert.equal(setPackagePin(group, '15.20-0+deb12u1'), group);
  assert.equal(setPackagePin(one, '15.20-0+deb12u1', 'main'), one);
});
