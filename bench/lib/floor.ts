/**
 * The floor of the speed bench: the least a person would do by hand to get what a tpa deploy
 * of the demo gives (a primary, replicas streaming from it, pgbouncer running), as plain
 * scripts run as root on each container. No TLS, no failover manager, no checks: a bound
 * to compare with, not a way to run a cluster.
 */
import { quote } from '../../src/core/shell.ts';

const V = 15;
const DATA = `/var/lib/postgresql/${V}/main`;
const BIN = `/usr/lib/postgresql/${V}/bin`;
// a throw-away password for containers that are destroyed right after the measurement
const PASSWORD = 'floor-bench-only';

export interface FloorScripts {
  /** every node at once */
  packages: string;
  primary: string;
  /** every replica at once */
  replica: string;
  /** every node at once */
  pooler: string;
  /** on the primary: returns when every replica streams */
  waitStreaming: string;
}

export function floorScripts(primaryAddress: string, replicaAddresses: string[]): FloorScripts {
  const psql = (sql: string) => `runuser -u postgres -- ${BIN}/psql -X -Atq -c ${quote(sql)}`;
  const hba = replicaAddresses.map((a) => `host replication replicator ${a}/32 scram-sha-256`).join('\n');
  return {
    packages: [
      'set -eu',
      'export DEBIAN_FRONTEND=noninteractive',
      `apt-get install -y -q --no-install-recommends postgresql-${V} pgbouncer >/dev/null`,
    ].join('\n'),
    primary: [
      'set -eu',
      `[ -f /etc/postgresql/${V}/main/postgresql.conf ] || pg_createcluster ${V} main >/dev/null`,
      `echo "listen_addresses = '*'" > /etc/postgresql/${V}/main/conf.d/floor.conf`,
      `printf '%s\\n' ${quote(hba)} >> /etc/postgresql/${V}/main/pg_hba.conf`,
      `systemctl start postgresql@${V}-main`,
      psql(`CREATE ROLE replicator REPLICATION LOGIN PASSWORD '${PASSWORD}'`),
    ].join('\n'),
    replica: [
      'set -eu',
      `[ -f /etc/postgresql/${V}/main/postgresql.conf ] || pg_createcluster ${V} main >/dev/null`,
      `rm -rf ${DATA} && install -d -o postgres -g postgres -m 0700 ${DATA}`,
      `runuser -u postgres -- env PGPASSWORD=${PASSWORD} ${BIN}/pg_basebackup -h ${primaryAddress} -U replicator -D ${DATA} -R -X stream -c fast`,
      `systemctl start postgresql@${V}-main`,
    ].join('\n'),
    pooler: 'systemctl start pgbouncer',
    waitStreaming: [
      'i=0',
      `until [ "$(${psql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")})" = ${replicaAddresses.length} ]; do`,
      '  i=$((i+1)); [ $i -lt 600 ] || { echo "replicas not streaming after 60 s" >&2; exit 1; }',
      '  sleep 0.1',
      'done',
    ].join('\n'),
  };
}
