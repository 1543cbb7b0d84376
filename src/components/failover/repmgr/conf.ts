/**
 * /etc/repmgr.conf for one node, and the paths and names the repmgr component installs.
 * Pure: everything comes from config, inventory and the postgres component's conventions.
 */
import { REPMGR_DATABASE, REPMGR_ROLE } from './names.ts';
import type { ClusterConfig } from '../../../model/schema.ts';
import { PG_PORT, ROLES, type PgPaths } from '../../postgres/paths.ts';
import { repmgrNodeId, repmgrPriority } from '../../topology.ts';
import { TPA_LIB_DIR } from '../../paths.ts';
import { CHILD_CHECK_S, DEFAULT_FAILOVER_TIMEOUT_S, DEFAULT_MIN_STANDBYS, failoverTiming } from './timing.ts';

export { TPA_LIB_DIR };
export const REPMGR_CONF = '/etc/repmgr.conf';
export const EVENT_SCRIPT = `${TPA_LIB_DIR}/repmgr-event.sh`;
/** one line per repmgr/repmgrd event; /var/log/postgresql is rotated by postgresql-common */
export const EVENT_LOG = '/var/log/postgresql/repmgr-events.log';
/** tpa's native unit replaces the package's SysV script (which cannot supervise repmgrd) */
export const REPMGRD_UNIT = 'repmgrd';
export const REPMGRD_UNIT_FILE = `/etc/systemd/system/${REPMGRD_UNIT}.service`;
export const REPMGRD_PID_FILE = `/run/${REPMGRD_UNIT}/repmgrd.pid`;
export const SUDOERS_FILE = '/etc/sudoers.d/tpa-repmgr';
export const SYSTEMCTL = '/usr/bin/systemctl';
/** child_nodes_disconnect_command: fences a primary cut off from the cluster (fence.ts) */
export const FENCE_NOW_SCRIPT = `${TPA_LIB_DIR}/postgres-fence-now.sh`;

export const REPMGR_PACKAGES = (p: PgPaths) => [`postgresql-${p.version}-repmgr`, 'repmgr'];

export interface RepmgrOptions {
  /** clusters[].failover.timeout: see timing.ts */
  failoverTimeout: number;
  /** standbys the primary needs connected before it considers fencing itself (0: never) */
  minStandbys: number;
  /** write repmgr.monitoring_history (grows until `repmgr cluster cleanup`) */
  monitoringHistory: boolean;
  /** repmgr location: nodes in another location than the primary never promote */
  location: string;
  /** node name -> priority, overriding the default (100 minus position) */
  priorities: Record<string, number>;
}

export const DEFAULT_REPMGR_OPTIONS: RepmgrOptions = {
  failoverTimeout: DEFAULT_FAILOVER_TIMEOUT_S,
  minStandbys: DEFAULT_MIN_STANDBYS,
  monitoringHistory: false,
  location: 'default',
  priorities: {},
};

export function repmgrBin(p: PgPaths): string {
  return `${p.binDir}/repmgr`;
}

/**
 * conninfo of a node as every other node reaches it: TCP to its address, TLS required (the
 * pg_hba rules are hostssl). No password: libpq reads ~postgres/.pgpass.
 */
export function nodeConninfo(address: string): string {
  return `host=${address} port=${PG_PORT} user=${REPMGR_ROLE} dbname=${REPMGR_DATABASE} connect_timeout=2 sslmode=require ${CLIENT_TCP}`;
}

/**
 * On every repmgr connection: a query on a connection to a node that dropped off the network
 * fails within seconds instead of waiting for TCP's retransmissions (~15 minutes), which would
 * hold repmgrd's monitoring loop, and with it the failover, until then.
 */
const CLIENT_TCP =
  'keepalives=1 keepalives_idle=1 keepalives_interval=1 keepalives_count=2 tcp_user_timeout=2000';

function q(value: string): string {
  if (value.includes("'") || value.includes('\n'))
    throw new Error(`repmgr.conf value cannot contain a quote or newline: ${value}`);
  return `'${value}'`;
}

export interface RepmgrConfInput {
  cluster: ClusterConfig;
  nodeName: string;
  address: string;
  paths: PgPaths;
  options?: Partial<RepmgrOptions>;
}

export function renderRepmgrConf(input: RepmgrConfInput): string {
  const { cluster, nodeName, address, paths: p } = input;
  const o: RepmgrOptions = { ...DEFAULT_REPMGR_OPTIONS, ...input.options };
  const repmgr = repmgrBin(p);
  const sudo = `sudo -n ${SYSTEMCTL}`;
  const t = failoverTiming(o.failoverTimeout);
  // on the primary: fewer standbys attached than this, at once (timing.ts), runs the fence
  const fence: [string, string | number][] =
    o.minStandbys > 0
      ? [
          ['child_nodes_check_interval', CHILD_CHECK_S],
          ['child_nodes_connected_min_count', o.minStandbys],
          ['child_nodes_disconnect_timeout', 0],
          ['child_nodes_disconnect_command', q(`${FENCE_NOW_SCRIPT} %p`)],
        ]
      : [];
  const lines: [string, string | number][] = [
    ['node_id', repmgrNodeId(cluster, nodeName)],
    ['node_name', q(nodeName)],
    ['conninfo', q(nodeConninfo(address))],
    ['data_directory', q(p.dataDir)],
    ['config_directory', q(p.configDir)],
    ['pg_bindir', q(p.binDir)],
    ['repmgr_bindir', q(p.binDir)],
    ['replication_user', q(ROLES.replication)],
    ['use_replication_slots', 'yes'],
    ['location', q(o.location)],
    ['', ''],
    ['failover', q('automatic')],
    ['priority', repmgrPriority(cluster, nodeName, o.priorities)],
    // ping, not query: a frozen primary's kernel still acknowledges TCP, so a query on an open
    // connection would wait forever where a new connection times out
    ['connection_check_type', q('ping')],
    ['monitor_interval_secs', t.monitorIntervalSecs],
    ['reconnect_attempts', t.reconnectAttempts],
    ['reconnect_interval', t.reconnectInterval],
    ...fence,
    ['primary_visibility_consensus', 'true'],
    ['promote_command', q(`${repmgr} standby promote -f ${REPMGR_CONF} --log-to-file`)],
    ['follow_command', q(`${repmgr} standby follow -f ${REPMGR_CONF} --log-to-file --upstream-node-id=%n`)],
    ['monitoring_history', o.monitoringHistory ? 'yes' : 'no'],
    ['repmgrd_pid_file', q(REPMGRD_PID_FILE)],
    ['log_level', q('INFO')],
    ['log_facility', q('STDERR')],
    ['', ''],
    ['service_start_command', q(`${sudo} start ${p.service}`)],
    ['service_stop_command', q(`${sudo} stop ${p.service}`)],
    ['service_restart_command', q(`${sudo} restart ${p.service}`)],
    ['service_reload_command', q(`${sudo} reload ${p.service}`)],
    ['repmgrd_service_start_command', q(`${sudo} start ${REPMGRD_UNIT}`)],
    ['repmgrd_service_stop_command', q(`${sudo} stop ${REPMGRD_UNIT}`)],
    ['', ''],
    ['event_notification_command', q(`${EVENT_SCRIPT} %n %e %s "%t" "%d"`)],
  ];
  const body = lines.map(([k, v]) => (k === '' ? '' : `${k}=${v}`)).join('\n');
  return (
    '# Managed by tpa: changes made here are overwritten by the next `tpa deploy`.\n' +
    `# repmgr node ${nodeName} of cluster ${cluster.name}; node_id is its position in config.yml.\n` +
    '# Passwords come from ~postgres/.pgpass. repmgrd runs as the systemd unit repmgrd.\n\n' +
    `${body}\n`
  );
}

/**
 * sudo rules for the postgres OS user: repmgr controls the server (and repmgrd) through
 * systemd, so systemd keeps tracking the unit across promote, follow and switchover.
 */
export function renderSudoers(p: PgPaths): string {
  const cmds = [
    ...['start', 'stop', 'restart', 'reload'].map((a) => `${SYSTEMCTL} ${a} ${p.service}`),
    ...['start', 'stop'].map((a) => `${SYSTEMCTL} ${a} ${REPMGRD_UNIT}`),
  ];
  return (
    '# Managed by tpa: repmgr (running as postgres) controls PostgreSQL and repmgrd through systemd.\n' +
    'Defaults:postgres !requiretty\n' +
    `postgres ALL=(root) NOPASSWD: ${cmds.join(', ')}\n`
  );
}

/**
 * repmgrd in the foreground under systemd, restarted if it dies. Not bound to the postgres
 * unit: repmgrd must keep running while the server is restarted by a follow or is down.
 */
export function renderRepmgrdUnit(p: PgPaths): string {
  return `# Managed by tpa. Replaces the SysV script of the repmgr-common package.
[Unit]
Description=repmgrd: replication monitoring and automatic failover for PostgreSQL ${p.version}
Documentation=https://repmgr.org/docs/current/repmgrd-overview.html
After=network-online.target ${p.service}.service
Wants=network-online.target

[Service]
Type=simple
User=postgres
Group=postgres
RuntimeDirectory=${REPMGRD_UNIT}
ExecStart=${p.binDir}/repmgrd -f ${REPMGR_CONF} --daemonize=false
ExecReload=/bin/kill -HUP $MAINPID
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
`;
}
