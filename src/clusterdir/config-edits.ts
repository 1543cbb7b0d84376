/**
 * Edits of config.yml's text that keep the user's comments and layout: add or remove a
 * cluster, a service or a node, swap a cluster's primary, set a field. Pure (text in, text
 * out); `editConfig` (edit-config.ts) validates the result, writes it and commits it.
 *
 * A new list item is inserted as lines after the list's last item, so every other byte of the
 * file stays as it was; when the file's layout does not allow that (a flow list, an unusual
 * indent) the parsed document is changed instead, which keeps comments but may re-indent.
 */
import { Document, isMap, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';

type Item = Record<string, unknown>;

const toJS = (text: string) => (parseDocument(text).toJS() ?? {}) as Record<string, unknown>;

/** the item as lines of a block sequence indented by `indent`, its comment first */
function renderItem(item: Item, comment: string | undefined, indent: string, flow = false): string {
  const doc = new Document([item]);
  const map = (doc.contents as YAMLSeq).items[0] as YAMLMap;
  // like its siblings: a node of a cluster is one line, `- { name: x, role: replica }`
  if (flow) map.flow = true;
  // a cluster's nodes read best one per line: `- { name: x, role: replica }`
  const nodes = map.get('nodes');
  if (isSeq(nodes)) for (const n of nodes.items) (n as YAMLMap).flow = true;
  const body = `${comment !== undefined ? `#${comment}\n` : ''}${doc.toString({ lineWidth: 0 })}`;
  return body
    .split('\n')
    .map((l) => (l === '' ? l : `${indent}${l}`))
    .join('\n');
}

/** where a new item of the block sequence at `path` goes (after its last item's line) and its indent */
function insertionPoint(text: string, path: (string | number)[]): { at: number; indent: string } | undefined {
  const seq = parseDocument(text).getIn(path, true);
  if (!isSeq(seq) || seq.flow || seq.items.length === 0) return undefined;
  const first = seq.items[0] as { range?: [number, number, number] };
  const last = seq.items.at(-1) as { range?: [number, number, number] };
  if (!first.range || !last.range) return undefined;
  const lineStart = text.lastIndexOf('\n', first.range[0] - 1) + 1;
  const dash = /^( *)- +$/.exec(text.slice(lineStart, first.range[0]));
  if (!dash) return undefined;
  // an item's range may run on over blank lines: the new one goes right after its last line
  const end = text.slice(0, last.range[1]).trimEnd().length;
  const eol = text.indexOf('\n', end);
  return { at: eol < 0 ? text.length : eol + 1, indent: dash[1]! };
}

/** The list at `path` with `item` appended; `comment` becomes a comment line above it. */
export function appendItem(text: string, path: (string | number)[], item: Item, comment?: string): string {
  const point = insertionPoint(text, path);
  if (point) {
    const head = text.slice(0, point.at);
    const last = (parseDocument(text).getIn(path, true) as YAMLSeq).items.at(-1);
    const flow = isMap(last) && last.flow === true;
    const out = `${head}${head.endsWith('\n') ? '' : '\n'}${renderItem(item, comment, point.indent, flow)}${text.slice(point.at)}`;
    // used only when the result reads back as the list plus this item
    const before = parseDocument(text).getIn(path) as { toJSON(): unknown[] } | undefined;
    const after = parseDocument(out).getIn(path) as { toJSON(): unknown[] } | undefined;
    if (JSON.stringify(after?.toJSON()) === JSON.stringify([...(before?.toJSON() ?? []), item])) return out;
  }
  const doc = parseDocument(text);
  const node = doc.createNode(item);
  if (comment !== undefined) node.commentBefore = comment;
  const seq = doc.getIn(path);
  if (seq === undefined || seq === null) doc.setIn(path, doc.createNode([]));
  const list = doc.getIn(path);
  if (!isSeq(list)) throw new Error(`config.yml: ${path.join('.')} is not a list`);
  list.add(node);
  return doc.toString({ lineWidth: 0 });
}

/** the text `appendItem` inserted: what `written` has beyond `original` (one contiguous run) */
function insertedText(original: string, written: string): string | undefined {
  const extra = written.length - original.length;
  if (extra <= 0) return undefined;
  let p = 0;
  while (p < original.length && original[p] === written[p]) p++;
  if (written.slice(p + extra) !== original.slice(p)) return undefined;
  return written.slice(p, p + extra);
}

const namesAt = (text: string, path: string) =>
  ((toJS(text)[path] as { name?: unknown }[] | undefined) ?? []).map((c) => c.name);

/**
 * The list `clusters` or `services` without the entry called `name`. When the file is still as
 * an earlier `appendItem` left it, the text from before comes back byte for byte; when someone
 * changed other parts since, the inserted lines are cut out; otherwise the entry is taken out
 * of the parsed document. Unchanged when there is no such entry.
 */
export function removeNamed(
  current: string,
  list: 'clusters' | 'services',
  name: string,
  before?: { original: string; written: string },
): string {
  if (before && current === before.written) return before.original;
  const inserted = before ? insertedText(before.original, before.written) : undefined;
  if (inserted !== undefined) {
    const i = current.indexOf(inserted);
    if (i >= 0 && current.indexOf(inserted, i + 1) < 0) {
      const out = current.slice(0, i) + current.slice(i + inserted.length);
      const want = namesAt(current, list).filter((n) => n !== name);
      if (JSON.stringify(namesAt(out, list)) === JSON.stringify(want)) return out;
    }
  }
  const doc = parseDocument(current);
  const seq = doc.get(list);
  if (!isSeq(seq)) return current;
  const i = seq.items.findIndex((c) => isMap(c) && c.get('name') === name);
  if (i < 0) return current;
  seq.items.splice(i, 1);
  return doc.toString({ lineWidth: 0 });
}

export const addCluster = (text: string, cluster: Item, comment?: string) =>
  appendItem(text, ['clusters'], cluster, comment);
export const removeCluster = (text: string, name: string, before?: { original: string; written: string }) =>
  removeNamed(text, 'clusters', name, before);
export const addService = (text: string, service: Item, comment?: string) =>
  appendItem(text, ['services'], service, comment);
export const removeService = (text: string, name: string) => removeNamed(text, 'services', name);

function clusterIndex(text: string, cluster: string): number {
  const i = ((toJS(text).clusters as { name?: unknown }[] | undefined) ?? []).findIndex(
    (c) => c.name === cluster,
  );
  if (i < 0) throw new Error(`config.yml has no cluster ${cluster}`);
  return i;
}

export function addNode(text: string, cluster: string, node: Item): string {
  return appendItem(text, ['clusters', clusterIndex(text, cluster), 'nodes'], node);
}

export function removeNode(text: string, cluster: string, node: string): string {
  const doc = parseDocument(text);
  const nodes = doc.getIn(['clusters', clusterIndex(text, cluster), 'nodes']);
  if (!isSeq(nodes)) return text;
  const i = nodes.items.findIndex((n) => isMap(n) && n.get('name') === node);
  if (i < 0) return text;
  nodes.items.splice(i, 1);
  return doc.toString({ lineWidth: 0 });
}

/** the node streams from `upstream`, or from the primary when it is undefined (the key goes) */
export function setNodeUpstream(
  text: string,
  cluster: string,
  node: string,
  upstream: string | undefined,
): string {
  const doc = parseDocument(text);
  const nodes = doc.getIn(['clusters', clusterIndex(text, cluster), 'nodes']);
  if (!isSeq(nodes)) return text;
  const map = nodes.items.find((n) => isMap(n) && n.get('name') === node) as YAMLMap | undefined;
  if (!map || map.get('upstream') === upstream) return text;
  if (upstream === undefined) map.delete('upstream');
  else map.set('upstream', upstream);
  return doc.toString({ lineWidth: 0 });
}

/** one field of a node set (its line keeps its flow style: `- { name: main-3, ..., node_id: 3 }`) */
export function setNodeField(
  text: string,
  cluster: string,
  node: string,
  key: string,
  value: unknown,
): string {
  return setNamedField(text, ['clusters', clusterIndex(text, cluster), 'nodes'], node, key, value);
}

/** one field of a service set, the same way */
export function setServiceField(text: string, service: string, key: string, value: unknown): string {
  return setNamedField(text, ['services'], service, key, value);
}

function setNamedField(text: string, list: (string | number)[], name: string, key: string, value: unknown) {
  const doc = parseDocument(text);
  const items = doc.getIn(list);
  if (!isSeq(items)) return text;
  const map = items.items.find((n) => isMap(n) && n.get('name') === name) as YAMLMap | undefined;
  if (!map || map.get(key) === value) return text;
  map.set(key, value);
  return doc.toString({ lineWidth: 0 });
}

/** `path` set to `value` (created when missing); comments elsewhere are kept. */
export function setField(text: string, path: (string | number)[], value: unknown): string {
  const doc = parseDocument(text);
  doc.setIn(path, value);
  return doc.toString({ lineWidth: 0 });
}

/**
 * `newPrimary` becomes the cluster's primary and the old primary one of its replicas; nodes
 * that followed the new primary now follow nobody (the primary), the old primary included.
 */
export function swapPrimary(text: string, cluster: string, newPrimary: string): string {
  const doc = parseDocument(text);
  const nodes = doc.getIn(['clusters', clusterIndex(text, cluster), 'nodes']);
  if (!isSeq(nodes)) throw new Error(`cluster ${cluster} has no nodes`);
  const maps = nodes.items.filter(isMap);
  const target = maps.find((n) => n.get('name') === newPrimary);
  if (!target) throw new Error(`cluster ${cluster} has no node ${newPrimary}`);
  if (target.get('role') === 'primary') return text;
  for (const n of maps) {
    if (n.get('role') === 'primary') n.set('role', 'replica');
    if (n.get('upstream') === newPrimary) n.delete('upstream');
  }
  target.set('role', 'primary');
  target.delete('upstream');
  return doc.toString({ lineWidth: 0 });
}

/**
 * The PostgreSQL package pin (tpa upgrade): the group's `postgres.package_version`, which then
 * holds for every cluster (their own pins go), or one cluster's `postgres_package_version`.
 */
export function setPackagePin(text: string, version: string, cluster?: string): string {
  const doc = parseDocument(text);
  if (cluster !== undefined) {
    doc.setIn(['clusters', clusterIndex(text, cluster), 'postgres_package_version'], version);
  } else {
    doc.setIn(['postgres', 'package_version'], version);
    const clusters = doc.get('clusters');
    if (isSeq(clusters))
      for (const c of clusters.items)
        if (isMap(c) && c.has('postgres_package_version')) c.delete('postgres_package_version');
  }
  const out = doc.toString({ lineWidth: 0 });
  // nothing to change: the text stays byte for byte what it was
  return JSON.stringify(toJS(out)) === JSON.stringify(toJS(text)) ? text : out;
}
