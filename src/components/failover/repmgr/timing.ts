/**
 * How fast repmgr fails over, and how fast a cut-off primary fences itself, both from one
 * setting: clusters[].failover.timeout, the least time between the primary dropping off the
 * network and a replica's promotion. Pure.
 *
 * The promotion side (repmgrd on each standby): every MONITOR_INTERVAL_S it pings the primary
 * (a connection attempt that gives up after CONNECT_TIMEOUT_S when packets are dropped); after
 * the first failed ping it tries RECONNECT_ATTEMPTS more times, reconnect_interval apart, then
 * elects and promotes. A primary that is unreachable (powered off, cut off: packets dropped)
 * therefore costs the standbys at least
 *     CONNECT_TIMEOUT_S + RECONNECT_ATTEMPTS x CONNECT_TIMEOUT_S + (RECONNECT_ATTEMPTS - 1) x interval
 * and at most MONITOR_INTERVAL_S more: interval is chosen so that the least is `timeout`.
 *
 * The fencing side (repmgrd on the primary, child_nodes_disconnect_command): the kernel drops a
 * standby's replication connection once TCP keepalives or unacknowledged data go unanswered
 * (the tcp_* settings below, ~TCP_DEAD_S), repmgrd sees it gone from pg_stat_replication at
 * its next turn (it checks its standbys every turn: CHILD_CHECK_S <= MONITOR_INTERVAL_S), and
 * the fence script probes the other nodes for PROBE_S before it stops the server. FENCE_WITHIN_S bounds all of it; the schema's minimum
 * timeout keeps it strictly below the promotion delay.
 *
 * A primary that refuses connections (its postgres is down) is promoted away from faster:
 * (RECONNECT_ATTEMPTS - 1) x interval. It accepts no writes then, so nothing needs fencing;
 * but repmgr's primary visibility consensus cancels a failover (and waits for the primary,
 * with no end) when a sibling saw the primary less than CONSENSUS_WINDOW_S ago, so the interval
 * is longer than that window: a killed postgres then is failed over, not waited for (CI saw
 * the cluster stay without a primary with an interval of 1 s).
 */
export const MONITOR_INTERVAL_S = 1;
export const CONNECT_TIMEOUT_S = 2;
export const RECONNECT_ATTEMPTS = 2;
export const CHILD_CHECK_S = 1;
/** repmgr: a sibling that saw the primary less than 2 monitor intervals ago cancels the failover */
export const CONSENSUS_WINDOW_S = 2 * MONITOR_INTERVAL_S;
const MIN_RECONNECT_INTERVAL_S = CONSENSUS_WINDOW_S + 1;
/** postgres' server-side TCP settings: a silent peer's connection dies after about TCP_DEAD_S */
export const TCP_SETTINGS = {
  tcp_keepalives_idle: 1,
  tcp_keepalives_interval: 1,
  tcp_keepalives_count: 2,
  tcp_user_timeout: 2000,
} as const;
export const TCP_DEAD_S = 3;
/** the fence script's TCP probe of each other node */
export const PROBE_S = 1;
/** a fast shutdown refuses new connections and ends every session at once; allow a second */
export const STOP_S = 1;
export const FENCE_WITHIN_S = TCP_DEAD_S + MONITOR_INTERVAL_S + PROBE_S + STOP_S;

const FIXED_S = CONNECT_TIMEOUT_S + RECONNECT_ATTEMPTS * CONNECT_TIMEOUT_S;
/**
 * The least timeout whose promotion delay stays above FENCE_WITHIN_S and whose reconnect
 * interval outlasts the consensus window; also the default (measured on lxc: fenced ~4 s after
 * the cut, promoted ~9.5 s after it).
 */
export const MIN_FAILOVER_TIMEOUT_S = Math.max(
  FENCE_WITHIN_S + 1,
  FIXED_S + (RECONNECT_ATTEMPTS - 1) * MIN_RECONNECT_INTERVAL_S,
);
export const DEFAULT_FAILOVER_TIMEOUT_S = MIN_FAILOVER_TIMEOUT_S;
export const DEFAULT_MIN_STANDBYS = 1;

export interface FailoverTiming {
  monitorIntervalSecs: number;
  reconnectAttempts: number;
  reconnectInterval: number;
  /** promotion, for an unreachable primary: between these two (seconds) */
  promoteAfterMin: number;
  promoteAfterMax: number;
  /** a primary cut off from every other node stops accepting writes within this */
  fenceWithin: number;
}

export function failoverTiming(timeoutS: number = DEFAULT_FAILOVER_TIMEOUT_S): FailoverTiming {
  if (!Number.isInteger(timeoutS) || timeoutS < MIN_FAILOVER_TIMEOUT_S)
    throw new Error(`failover timeout ${timeoutS}: at least ${MIN_FAILOVER_TIMEOUT_S} seconds`);
  const reconnectInterval = Math.round((timeoutS - FIXED_S) / (RECONNECT_ATTEMPTS - 1));
  const promoteAfterMin = FIXED_S + (RECONNECT_ATTEMPTS - 1) * reconnectInterval;
  return {
    monitorIntervalSecs: MONITOR_INTERVAL_S,
    reconnectAttempts: RECONNECT_ATTEMPTS,
    reconnectInterval,
    promoteAfterMin,
    promoteAfterMax: promoteAfterMin + MONITOR_INTERVAL_S,
    fenceWithin: FENCE_WITHIN_S,
  };
}
