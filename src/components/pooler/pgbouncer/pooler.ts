/** pgbouncer as the Pooler of clusters with `pooler: pgbouncer`. */
import type { Pooler } from '../pooler.ts';
import { ROLES, SECRETS } from '../../postgres/paths.ts';
import { pgbouncerAuthHbaRules, pgbouncerClientHbaRules } from './hba.ts';
import { DATABASES_INI, FOLLOW_SCRIPT, FOLLOW_UNIT, PGBOUNCER_PORT, PGBOUNCER_UNIT } from './files.ts';
import { sh } from '../../../core/shell.ts';
import { PG_OS_USER, PG_SOCKET_DIR, type PgPaths } from '../../postgres/paths.ts';
import { pgbouncerComponent } from './index.ts';
import { readPgbouncerSections, ROUTE_SECTION } from './observation.ts';
import { PGBOUNCER_CHECKS } from './test-checks.ts';

/** PAUSE waits for every server connection to go back to the pool: clients in a session hold theirs */
export const PAUSE_TIMEOUT_S = 10;

/** a command on pgbouncer's admin console: the postgres OS user over the unix socket (peer) */
function consoleCommand(p: PgPaths, command: string, timeoutS: number): string {
  return sh`cd / && runuser -u ${PG_OS_USER} -- timeout ${String(timeoutS)} ${`${p.binDir}/psql`} -X -q -h ${PG_SOCKET_DIR} -p ${String(PGBOUNCER_PORT)} -U ${PG_OS_USER} -d pgbouncer -c ${command}`;
}

/** A function, not a constant: the registry is imported by modules this folder imports (postgres/hba.ts). */
export function pgbouncerPooler(): Pooler {
  return {
    name: 'pgbouncer',
    component: pgbouncerComponent,
    units: [PGBOUNCER_UNIT, FOLLOW_UNIT],
    packages: () => ['pgbouncer'],
    port: PGBOUNCER_PORT,
    postgres: {
      roles: [
        { name: ROLES.pgbouncerAuth, attributes: ['LOGIN'], secret: SECRETS.pgbouncer },
        { name: ROLES.pgbouncerCheck, attributes: ['LOGIN'], secret: SECRETS.pgbouncerCheck },
      ],
      hbaRules: pgbouncerAuthHbaRules,
      // the follower (to postgres on every node) and the health check (through pgbouncer)
      // log in as a role of their own, not as the failover manager's: a cluster without one
      // has none to borrow
      pgpass: [
        { database: '*', user: ROLES.pgbouncerCheck, secret: SECRETS.pgbouncerCheck },
        { database: '*', user: ROLES.pgbouncerCheck, secret: SECRETS.pgbouncerCheck, port: PGBOUNCER_PORT },
      ],
    },
    clientHbaRules: pgbouncerClientHbaRules,
    observeSections: () => [{ name: ROUTE_SECTION, body: `sed -n 's/^\\* *= *//p' ${DATABASES_INI} 2>&1` }],
    readSections: readPgbouncerSections,
    routeHost: (obs) => obs.pgbouncer?.routeHost || undefined,
    checks: PGBOUNCER_CHECKS,
    switchover: {
      pause: (p) => consoleCommand(p, 'PAUSE', PAUSE_TIMEOUT_S),
      route: () => sh`${FOLLOW_SCRIPT} --reason ${'tpa switchover'}`,
      // RESUME of a pgbouncer that is not paused is an error that changes nothing
      resume: (p) => `${consoleCommand(p, 'RESUME', 10)} || true`,
    },
  };
}
