/**
 * The pure parts of the restore drill (index.ts): the temporary cluster's name, adding
 * it to config.yml and taking it out again (the file ends byte-identical to before), the
 * shell scripts run on the nodes, and reading what they print.
 */
import { randomBytes } from 'node:crypto';
import { parseDocument } from 'yaml';
import { addCluster, removeCluster } from '../../../clusterdir/config-edits.ts';
import { MARKER_SETUP_SQL, MARKER_TABLE, markerInsertSql } from '../../../checks/markers.ts';
import { PG_OS_USER, type PgPaths } from '../../../components/postgres/paths.ts';
import { sh } from '../../../core/shell.ts';
import { psqlAsPostgres } from '../../../components/postgres/psql.ts';

/** host names are at most 63 characters; the node adds `-1` */
const MAX_CLUSTER_NAME = 61;
const DRILL_INFIX = '-drill-';
/** `-drill-` + 4 hex digits: tells a drill's temporary cluster (e.g. one a failed cleanup left) */
export const DRILL_NAME = /-drill-[0-9a-f]{4}$/;

/**
 * `<source>-drill-<4 hex>`, unused in the group (as a cluster, node or service name), its node
 * `<name>-1` too. A long source name is shortened so the node name stays a host name.
 */
export function drillClusterName(
  source: string,
  taken: ReadonlySet<string>,
  random: () => string = () => randomBytes(2).toString('hex'),
): string {
  const base = source.slice(0, MAX_CLUSTER_NAME - DRILL_INFIX.length - 4).replace(/-+$/, '');
  for (let i = 0; i < 100; i++) {
    const name = `${base}${DRILL_INFIX}${random()}`;
    if (!DRILL_NAME.test(name)) throw new Error(`bad random suffix in ${name}`);
    if (!taken.has(name) && !taken.has(drillNodeName(name))) return name;
  }
  throw new Error(`no free name for a drill of ${source}`);
}

export function drillNodeName(cluster: string): string {
  return `${cluster}-1`;
}

export interface DrillClusterSpec {
  name: string;
  /** the cluster whose backup is restored */
  source: string;
}

interface RawNode {
  name?: unknown;
  role?: unknown;
  instance_type?: unknown;
  volume_gb?: unknown;
}

function drillItem(text: string, spec: DrillClusterSpec): Record<string, unknown> {
  const raw = parseDocument(text).toJS() as { clusters?: { name?: unknown; nodes?: RawNode[] }[] };
  const source = raw.clusters?.find((c) => c.name === spec.source);
  const primary = source?.nodes?.find((n) => n.role === 'primary');
  const node: Record<string, unknown> = { name: drillNodeName(spec.name), role: 'primary' };
  // the restored data must fit: the same machine size as the node it comes from
  if (typeof primary?.instance_type === 'string') node.instance_type = primary.instance_type;
  if (typeof primary?.volume_gb === 'number') node.volume_gb = primary.volume_gb;
  return { name: spec.name, failover_manager: 'none', pooler: 'none', backups: false, nodes: [node] };
}

const commentOf = (spec: DrillClusterSpec) =>
  ` temporary: tpa test --restore-drill of ${spec.source}; removed when the drill ends`;

/**
 * config.yml with the temporary cluster appended to the clusters list: one primary sized like
 * the source's primary, no failover manager, no pooler, no backups of its own. The lines are
 * inserted into the text as it is, so every other byte of the file stays as it was.
 */
export function addDrillCluster(text: string, spec: DrillClusterSpec): string {
  return addCluster(text, drillItem(text, spec), commentOf(spec));
}

/**
 * config.yml without the temporary cluster: byte for byte the text from before the drill when
 * nobody changed the file meanwhile (config-edits.ts removeNamed).
 */
export function removeDrillCluster(
  current: string,
  name: string,
  before?: { original: string; written: string },
): string {
  return removeCluster(current, name, before);
}

/** On the source's primary: write the drill's marker row (tpa_test.markers, via restore-drill). */
export function writeMarkerScript(id: string): string {
  const sql = [
    MARKER_SETUP_SQL,
    markerInsertSql(id, 'restore-drill'),
    `DELETE FROM ${MARKER_TABLE} WHERE written_at < now() - interval '1 day'`,
  ].join('; ');
  return `${psqlAsPostgres({ sql, onErrorStop: false })} </dev/null`;
}

/** On the restored node: prints how many rows hold the marker (1 when it came back) */
export function countMarkerScript(id: string): string {
  if (!/^[a-z0-9-]{1,64}$/.test(id)) throw new Error(`bad marker id ${id}`);
  return `${psqlAsPostgres({ sql: `SELECT count(*) FROM ${MARKER_TABLE} WHERE id = '${id}'`, onErrorStop: false })} </dev/null`;
}

/** prints `f` on a primary, `t` on a standby */
export const IS_IN_RECOVERY = `${psqlAsPostgres({ sql: 'SELECT pg_is_in_recovery()', onErrorStop: false })} </dev/null`;

/**
 * On the restored node: stop the server (pg_checksums needs it down), then read every data
 * page of the data directory against its checksum. Prints pg_checksums's report; its exit
 * code tells.
 */
export function checksumsScript(p: PgPaths): string {
  return [
    'set -u',
    sh`systemctl stop ${p.service} || exit 1`,
    sh`env -C / runuser -u ${PG_OS_USER} -- ${`${p.binDir}/pg_checksums`} --check -D ${p.dataDir} 2>&1`,
  ].join('\n');
}

export type ChecksumReport = { ok: true; files: number; blocks: number } | { ok: false; why: string };

/** pg_checksums --check's report (PostgreSQL 12 and later), with its exit code */
export function parseChecksums(stdout: string, exitCode: number | null): ChecksumReport {
  const num = (label: string) => {
    const m = new RegExp(`^${label}:\\s+(\\d+)\\s*$`, 'm').exec(stdout);
    return m ? Number(m[1]) : undefined;
  };
  const files = num('Files scanned');
  const blocks = num('Blocks scanned');
  const bad = num('Bad checksums');
  const version = num('Data checksum version');
  const lastLine = stdout.trim().split('\n').at(-1) ?? '';
  if (/checksums are not enabled/.test(stdout))
    return { ok: false, why: 'data checksums are not enabled in the restored cluster' };
  if (exitCode !== 0 || files === undefined || blocks === undefined || bad === undefined)
    return {
      ok: false,
      why: `pg_checksums --check failed (exit ${exitCode}): ${bad ? `${bad} bad checksums; ` : ''}${lastLine.slice(0, 300)}`,
    };
  if (bad !== 0) return { ok: false, why: `${bad} bad checksums in ${files} files` };
  if (version === 0) return { ok: false, why: 'data checksums are not enabled in the restored cluster' };
  if (files === 0) return { ok: false, why: 'pg_checksums scanned no files' };
  return { ok: true, files, blocks };
}

export interface DrillOutcome {
  backup: string;
  node: string;
  marker: string;
  files: number;
  blocks: number;
  seconds: number;
}

export function passDetail(o: DrillOutcome): string {
  return (
    `backup ${o.backup} restored into ${o.node}: marker ${o.marker} found, ` +
    `checksums verified in ${o.files} files (${o.blocks} blocks); ${o.seconds.toFixed(1)} s, temporary cluster removed`
  );
}

export interface Leftover {
  dir: string;
  cluster: string;
  node: string;
  platform: string;
  /** the platform's id of the node's machine (lxc: the container's name) */
  machine?: string;
  /** the temporary cluster is still in config.yml */
  inConfig: boolean;
}

/** What a failed cleanup left behind, and how to remove it. */
export function leftoverText(l: Leftover): string {
  const machine = l.machine ? ` (${l.machine})` : '';
  return l.inConfig
    ? `left behind: cluster ${l.cluster} in config.yml and its machine ${l.node}${machine}; ` +
        `delete the cluster ${l.cluster} from the clusters list in ${l.dir}/config.yml, then run tpa provision ${l.dir} ` +
        `(it removes machines no longer in config.yml)`
    : `left behind: the machine ${l.node}${machine} of cluster ${l.cluster}, no longer in config.yml; ` +
        `run tpa provision ${l.dir} again to remove it` +
        (l.platform === 'lxc' && l.machine
          ? ` (or by hand: lxc-stop -k -n ${l.machine}; lxc-destroy -n ${l.machine})`
          : '');
}
