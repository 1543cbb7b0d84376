/**
 * `tpa upgrade DIR [--cluster C] [--to VERSION]`: a rolling minor upgrade of PostgreSQL (the
 * server, client and libpq packages, held together by the pin) and of the failover manager's
 * packages, without clients seeing an error. Checked first (plan.ts: every node running and
 * streaming, the version in every node's mirror, no downgrade); nothing changes on a refusal.
 * Then config.yml gets the pin (one commit), and per cluster: each standby in turn (deepest
 * cascade first) installs the packages and restarts on them while the failover manager holds
 * still, and streams again before the next one starts; then a switchover hands the primary to
 * an upgraded standby (clients stall, none fails), and the old primary is upgraded as a
 * standby. A primary without a standby (or with --no-switchover) restarts in place with its
 * poolers paused: clients wait. A node already at the version is left alone, so a run that
 * stopped half-way continues where it stopped when run again.
 */
import type { EventSink } from '../../core/events.ts';
import { OperationError } from '../../core/errors.ts';
import { sh } from '../../core/shell.ts';
import { loadClusterConfig } from '../../clusterdir/dir.ts';
import { editConfig } from '../../clusterdir/edit-config.ts';
import { setPackagePin } from '../../clusterdir/config-edits.ts';
import { connectCluster, type ClusterAccess } from '../../clusterdir/connect.ts';
import { failoverManagerOf } from '../../components/failover/registry.ts';
import { poolerOf } from '../../components/pooler/registry.ts';
import { pgPathsFor, type PgPaths } from '../../components/postgres/paths.ts';
import { psqlAsPostgres } from '../../components/postgres/psql.ts';
import { restartWaitCommand } from '../../components/postgres/restart-wait.ts';
import { serverPackages } from '../../components/postgres/packages.ts';
import { upstreamVersion } from '../../plan/debian-version.ts';
import { aptInstallCommand } from '../../engine/commands.ts';
import type { ClusterConfig } from '../../model/schema.ts';
import { clusterStatus } from '../status/index.ts';
import { switchover } from '../switchover/index.ts';
import { planUpgrade, type NodePackages, type UpgradePlan, type UpgradeRequest } from './plan.ts';

export interface UpgradeNodeReport {
  node: string;
  cluster: string;
  /** its role while it was upgraded */
  as: 'standby' | 'primary in place';
  from: string;
  to: string;
  durationMs: number;
}

export interface UpgradeReport {
  target: string;
  nodes: UpgradeNodeReport[];
  switchovers: { cluster: string; from: string; to: string; stallMs: number }[];
  /** nodes that were at the version already */
  unchanged: string[];
  /** the commit that pins the version in config.yml */
  commit: string | null;
  durationMs: number;
}

const PROBE_TAB = '\t';

/** Refreshes apt's lists, then: the versions apt offers for the server package, the ones installed. */
export function packagesProbeCommand(p: PgPaths): string {
  return [
    'export DEBIAN_FRONTEND=noninteractive LC_ALL=C',
    // stale lists would not know the newest version; a failed refresh still lists what is known
    'apt-get -q -o DPkg::Lock::Timeout=300 update >/dev/null 2>&1 || true',
    // madison lists a package's versions newest first, one line per source
    sh`apt-cache madison ${p.package}` +
      String.raw` | awk -F'|' '/Packages/ { gsub(/ /, "", $2); print "O\t" $2 }'`,
    sh`dpkg-query -W -f='I\\t\${Package}\\t\${Version}\\t\${db:Status-Abbrev}\\n' ${serverPackages(p)} 2>/dev/null || true`,
  ].join('\n');
}

export function parsePackagesProbe(node: string, out: string): NodePackages {
  const offered: string[] = [];
  const installed: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const [kind, a, b, status] = line.split(PROBE_TAB);
    if (kind === 'O' && a && !offered.includes(a)) offered.push(a);
    if (kind === 'I' && a && b && status?.startsWith('ii')) installed[a] = b;
  }
  return { node, installed, offered };
}

/**
 * On one node: the packages at the version (apt stops a running server of that major version,
 * Debian's maintainer scripts do), the server restarted on the new binaries unless it already
 * runs them, and back: accepting connections and, on a standby, streaming.
 */
export function nodeUpgradeCommand(p: PgPaths, cluster: ClusterConfig, target: string): string {
  const manager = failoverManagerOf(cluster);
  const pinned = serverPackages(p).map((name) => ({ kind: 'package' as const, name, version: target }));
  const others = [...manager.postgres.packages(p), ...manager.packages(p)]
    .filter((n, i, all) => all.indexOf(n) === i && !serverPackages(p).includes(n))
    .map((name) => ({ kind: 'package' as const, name }));
  const [major, minor] = upstreamVersion(target).split('.').map(Number);
  const wantNum = String((major ?? 0) * 10000 + (minor ?? 0));
  const versionNum = psqlAsPostgres({ sql: 'SHOW server_version_num', onErrorStop: false, port: false });
  return [
    'set -eu',
    'cd /',
    aptInstallCommand([...pinned, ...others]),
    `if [ "$(${versionNum} 2>/dev/null)" != ${wantNum} ]; then systemctl restart ${p.service}; fi`,
    restartWaitCommand(p),
    `test "$(${versionNum})" = ${wantNum} || { echo "${p.service} does not run ${upstreamVersion(target)} after its restart" >&2; exit 1; }`,
  ].join('\n');
}

export async function upgrade(
  req: UpgradeRequest & { dir: string; events: EventSink },
): Promise<UpgradeReport> {
  const started = Date.now();
  const { config } = await loadClusterConfig(req.dir);
  const status = await clusterStatus(req.dir);
  const access = await connectCluster(req.dir, { events: req.events });
  try {
    const p = pgPathsFor(config);
    const clusters =
      req.cluster === undefined ? config.clusters : config.clusters.filter((c) => c.name === req.cluster);
    const nodes = clusters.flatMap((c) => c.nodes.map((n) => n.name));
    req.events({
      kind: 'info',
      message: `asking ${nodes.length} nodes which PostgreSQL versions their mirror offers`,
    });
    const probed = await Promise.all(
      nodes.map(async (n) => {
        const row = status.nodes.find((r) => r.node === n);
        if (row?.state === 'unreachable') return undefined; // the plan names it
        const r = await access.pool.forHost(n).exec(packagesProbeCommand(p), {
          step: 'upgrade: the versions on offer',
          timeoutMs: 10 * 60_000,
        });
        return parsePackagesProbe(n, r.stdout);
      }),
    );
    const plan = planUpgrade(
      config,
      status,
      probed.filter((x) => x !== undefined),
      p.package,
      req,
    );
    return await run(access, req, plan, started);
  } finally {
    await access.close();
  }
}

async function run(
  access: ClusterAccess,
  req: UpgradeRequest & { dir: string; events: EventSink },
  plan: UpgradePlan,
  started: number,
): Promise<UpgradeReport> {
  const p = pgPathsFor(access.config);
  const info = (message: string) => req.events({ kind: 'info', message });
  const scope = plan.pin.scope === 'cluster' ? ` (cluster ${plan.pin.cluster})` : '';
  const moving = plan.clusters.flatMap((c) => [...c.standbys, ...(c.primaryNeeds ? [c.primary] : [])]);
  const from = [...new Set(moving.map((n) => plan.before[n]))].join(', ') || plan.target;
  const edit = await editConfig(
    req.dir,
    (text) => setPackagePin(text, plan.target, plan.pin.scope === 'cluster' ? plan.pin.cluster : undefined),
    `upgrade: PostgreSQL ${from} -> ${plan.target}${scope}`,
  );
  const report: UpgradeReport = {
    target: plan.target,
    nodes: [],
    switchovers: [],
    unchanged: plan.clusters.flatMap((c) => c.done),
    commit: edit.commit,
    durationMs: 0,
  };
  const todo = plan.clusters.reduce((n, c) => n + c.standbys.length + (c.primaryNeeds ? 1 : 0), 0);
  if (todo === 0) info(`every node runs ${plan.target} already`);
  let step = 'start';
  try {
    for (const c of plan.clusters) {
      const cluster = access.config.clusters.find((x) => x.name === c.name)!;
      const manager = failoverManagerOf(cluster);
      const pooler = poolerOf(cluster);
      const hold = manager.holdFailover?.(p);
      const members = cluster.nodes.map((n) => n.name);
      let primary = c.primary;
      const upgradeNode = async (node: string, as: UpgradeNodeReport['as']) => {
        step = `${node} (${as})`;
        const n = report.nodes.length + 1;
        info(`${c.name}: ${node} ${plan.before[node]} -> ${plan.target} as a ${as} (${n} of ${todo})`);
        const t0 = Date.now();
        const inPlace = as === 'primary in place';
        // the failover manager sees a planned restart, not a failure; clients of an
        // in-place primary wait in their poolers rather than fail
        if (hold)
          await access.pool.forHost(primary).exec(hold.hold, { step: `upgrade: hold ${manager.name}` });
        const paused = inPlace && pooler.switchover ? pooler.switchover : undefined;
        try {
          if (paused)
            await Promise.all(
              members.map((m) =>
                access.pool.forHost(m).exec(paused.pause(), { step: `upgrade: pause ${pooler.name}` }),
              ),
            );
          try {
            await access.pool.forHost(node).exec(nodeUpgradeCommand(p, cluster, plan.target), {
              step: `upgrade: ${node}`,
              timeoutMs: 15 * 60_000,
            });
          } finally {
            if (paused)
              await Promise.allSettled(
                members.map((m) =>
                  access.pool.forHost(m).exec(paused.resume(), { step: `upgrade: resume ${pooler.name}` }),
                ),
              );
          }
        } finally {
          // released from the primary, or from any node that answers: a failover manager left
          // holding still would not fail over at the next real failure
          if (hold) {
            let released = false;
            for (const m of [primary, ...members.filter((x) => x !== primary)]) {
              released = await access.pool
                .forHost(m)
                .exec(hold.release, { step: `upgrade: release ${manager.name}` })
                .then(() => true)
                .catch(() => false);
              if (released) break;
            }
            if (!released)
              req.events({
                kind: 'warning',
                message: `${manager.name} may still hold still on cluster ${c.name} (no node took the release): once a node answers, run there as root: ${hold.release}`,
              });
          }
        }
        const ms = Date.now() - t0;
        req.events({ kind: 'timing', what: `upgrade: ${node}`, host: node, durationMs: ms });
        report.nodes.push({
          node,
          cluster: c.name,
          as,
          from: plan.before[node]!,
          to: plan.target,
          durationMs: ms,
        });
      };
      for (const s of c.standbys) await upgradeNode(s, 'standby');
      if (!c.primaryNeeds) continue;
      if (c.switchover) {
        step = `switchover from ${primary}`;
        const sw = await switchover({ dir: req.dir, events: req.events, cluster: c.name });
        report.switchovers.push({ cluster: c.name, from: sw.from, to: sw.to, stallMs: sw.stallMs });
        primary = sw.to;
        await upgradeNode(sw.from, 'standby');
      } else {
        await upgradeNode(primary, 'primary in place');
      }
    }
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n').slice(0, 3).join(' ') : String(e);
    const where = await standing(req.dir).catch(() => 'tpa status shows each node');
    throw new OperationError(`upgrade stopped at ${step}: ${why}; where each node stands: ${where}`, {
      step: `upgrade: ${step}`,
      hint: `config.yml pins ${plan.target}${edit.commit ? ` (commit ${edit.commit.slice(0, 7)})` : ''}; fix the cause and run tpa upgrade DIR again: it goes on with the nodes not at that version`,
    });
  }
  report.durationMs = Date.now() - started;
  return report;
}

/** "main-1 primary 15.20, main-2 replica 15.18 (stopped)": for an error half-way */
async function standing(dir: string): Promise<string> {
  const now = await clusterStatus(dir);
  return now.nodes
    .map((n) => `${n.node} ${n.role} ${n.version ?? '?'}${n.state !== 'running' ? ` (${n.state})` : ''}`)
    .join(', ');
}
