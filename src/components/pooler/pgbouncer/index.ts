/**
 * pgbouncer on every postgres node of a cluster with `pooler: pgbouncer`, sending every
 * database to the cluster's current primary over TLS; clients must use TLS too.
 *
 *   pooler         package; userlist.txt (the auth user only), hba.conf, follow.conf, the
 *                  follower script and its unit (not started yet); on the current primary,
 *                  pgbouncer.get_auth() in every database
 *   client-access  pgbouncer.ini and the route (databases.ini), pgbouncer and the follower
 *                  running: clients get in last (seed 003). Until then the package's stock
 *                  configuration listens on localhost only and serves no database.
 *   checks         pgbouncer answers over TLS on 6432 and lands on the primary
 *
 * The route is decided from facts (the node that is the primary now), and the follower
 * writes the same file when the primary moves, so a deploy after a failover keeps pgbouncer
 * on the real primary instead of sending it back to config.yml's.
 */
import type { Component, DeployContext, HealthCheck } from '../../component.ts';
import type { Resource } from '../../../plan/types.ts';
import type { InventoryHost } from '../../../platforms/platform.ts';
import { clientCidrs } from '../../postgres/hba-rule.ts';
import { sh } from '../../../core/shell.ts';
import { psqlAsPostgres } from '../../postgres/psql.ts';
import { clusterNodes, PG_OS_GROUP, PG_OS_USER, pgPathsFor, ROLES, SECRETS } from '../../postgres/paths.ts';
import { TPA_LIB_DIR } from '../../paths.ts';
import { systemdReload } from '../../systemd.ts';
import { clusterOfHost, currentPrimaryName, hostByName } from '../../topology.ts';
import {
  AUTH_FUNCTION_PROBE,
  AUTH_FUNCTION_SQL,
  authFunctionCommand,
  authFunctionNeeded,
  authFunctionProbeCommand,
} from './auth-function.ts';
import {
  DATABASES_INI,
  FOLLOW_CONF,
  FOLLOW_SCRIPT,
  FOLLOW_STATE_DIR,
  FOLLOW_UNIT,
  FOLLOW_UNIT_FILE,
  PGBOUNCER_DROPIN,
  PGBOUNCER_HBA,
  PGBOUNCER_INI,
  PGBOUNCER_PORT,
  PGBOUNCER_TPA_DIR,
  PGBOUNCER_UNIT,
  PGBOUNCER_USERLIST,
  renderDatabasesIni,
  renderFollowConf,
  renderFollowUnit,
  renderPgbouncerDropIn,
  renderPgbouncerHba,
  renderPgbouncerIni,
  renderUserlist,
} from './files.ts';
import { renderFollowScript } from './follow-script.ts';

type FileResource = Extract<Resource, { kind: 'file' }>;

const owned = (
  path: string,
  content: string,
  mode: number,
  owner: string,
  group: string,
  extra: Pick<FileResource, 'notify' | 'secret'> = {},
): FileResource => ({ kind: 'file', path, content, mode, owner, group, ...extra });

const reload = `reload:${PGBOUNCER_UNIT}` as const;
const restart = `restart:${PGBOUNCER_UNIT}` as const;

/** the address pgbouncer sends clients to: the node that is the primary now */
export function routeAddress(host: InventoryHost, ctx: DeployContext): string {
  const cluster = clusterOfHost(host, ctx.config);
  return hostByName(ctx.inventory.hosts, currentPrimaryName(cluster, ctx.facts)).address;
}

function poolerResources(host: InventoryHost, ctx: DeployContext): Resource[] {
  const cluster = clusterOfHost(host, ctx.config);
  const nodes = clusterNodes(host, ctx.inventory.hosts);
  const password = ctx.secrets[SECRETS.pgbouncer];
  if (password === undefined) throw new Error(`secret ${SECRETS.pgbouncer} is missing`);
  const unit = renderFollowUnit();
  const dropIn = renderPgbouncerDropIn();
  const resources: Resource[] = [
    { kind: 'package', name: 'pgbouncer' },
    { kind: 'directory', path: TPA_LIB_DIR, mode: 0o755, owner: 'root', group: 'root' },
    { kind: 'directory', path: PGBOUNCER_TPA_DIR, mode: 0o750, owner: PG_OS_USER, group: PG_OS_GROUP },
    { kind: 'directory', path: FOLLOW_STATE_DIR, mode: 0o700, owner: PG_OS_USER, group: PG_OS_GROUP },
    owned(PGBOUNCER_USERLIST, renderUserlist(password), 0o600, PG_OS_USER, PG_OS_GROUP, {
      secret: true,
      notify: [reload],
    }),
    owned(
      PGBOUNCER_HBA,
      renderPgbouncerHba({
        nodeAddresses: nodes.map((n) => n.address),
        clientCidrs: clientCidrs(ctx.config),
        method: ctx.config.access.client_auth,
      }),
      0o640,
      PG_OS_USER,
      PG_OS_GROUP,
      { notify: [reload] },
    ),
    owned(
      FOLLOW_CONF,
      renderFollowConf({
        nodeAddresses: nodes.map((n) => n.address),
        checkUser: ROLES.pgbouncerCheck,
        checkDatabase: 'postgres',
        psql: `${pgPathsFor(ctx.config).binDir}/psql`,
      }),
      0o640,
      'root',
      PG_OS_GROUP,
    ),
    owned(FOLLOW_SCRIPT, renderFollowScript(), 0o755, 'root', 'root', { notify: [`restart:${FOLLOW_UNIT}`] }),
    owned(FOLLOW_UNIT_FILE, unit, 0o644, 'root', 'root', { notify: [`restart:${FOLLOW_UNIT}`] }),
    owned(PGBOUNCER_DROPIN, dropIn, 0o644, 'root', 'root'),
    systemdReload({ file: FOLLOW_UNIT_FILE, content: unit }, { file: PGBOUNCER_DROPIN, content: dropIn }),
  ];
  if (currentPrimaryName(cluster, ctx.facts) === host.name) {
    resources.push({
      kind: 'action',
      id: 'pgbouncer-auth-function',
      description: 'install pgbouncer.get_auth() (auth_query) in every database',
      command: authFunctionCommand(),
      stdin: AUTH_FUNCTION_SQL,
      needed: (f) => authFunctionNeeded(f.probes[AUTH_FUNCTION_PROBE]),
    });
  }
  return resources;
}

function clientAccessResources(host: InventoryHost, ctx: DeployContext): Resource[] {
  const p = pgPathsFor(ctx.config);
  return [
    owned(DATABASES_INI, renderDatabasesIni(routeAddress(host, ctx)), 0o640, PG_OS_USER, PG_OS_GROUP, {
      notify: [reload],
    }),
    owned(PGBOUNCER_INI, renderPgbouncerIni({ paths: p }), 0o640, PG_OS_USER, PG_OS_GROUP, {
      notify: [restart],
    }),
    { kind: 'service', name: PGBOUNCER_UNIT, state: 'running', enabled: true },
    { kind: 'service', name: FOLLOW_UNIT, state: 'running', enabled: true },
  ];
}

/**
 * Through pgbouncer over TLS, as its check role (password from ~postgres/.pgpass), the server
 * must not be in recovery.
 */
export function routesToPrimaryCheck(address: string): string {
  const conn = `host=${address} port=${PGBOUNCER_PORT} dbname=postgres user=${ROLES.pgbouncerCheck} sslmode=require connect_timeout=5`;
  return [
    `r=$(${psqlAsPostgres({ sql: 'SELECT pg_is_in_recovery()', db: conn, onErrorStop: false, port: false })} </dev/null)`,
    '[ "$r" = f ] || { echo "pgbouncer reached a server in recovery ($r)" >&2; exit 1; }',
  ].join('\n');
}

export const pgbouncerComponent: Component = {
  name: 'pgbouncer',

  appliesTo(host, ctx) {
    return host.kind === 'postgres' && clusterOfHost(host, ctx.config).pooler === 'pgbouncer';
  },

  probes(host, ctx): Record<string, string> {
    // a psql per database: asked only where the function is installed (the primary)
    if (currentPrimaryName(clusterOfHost(host, ctx.config), ctx.facts) !== host.name) return {};
    return { [AUTH_FUNCTION_PROBE]: authFunctionProbeCommand() };
  },

  desired(host, ctx) {
    return [
      { phase: 'pooler', resources: poolerResources(host, ctx) },
      { phase: 'client-access', resources: clientAccessResources(host, ctx) },
    ];
  },

  checks(host): HealthCheck[] {
    return [
      { name: 'pgbouncer is running', command: sh`systemctl is-active --quiet ${PGBOUNCER_UNIT}` },
      { name: 'the pgbouncer follower is running', command: sh`systemctl is-active --quiet ${FOLLOW_UNIT}` },
      {
        name: 'pgbouncer answers over TLS on 6432 and routes to the primary',
        command: routesToPrimaryCheck(host.address),
      },
    ];
  },
};
