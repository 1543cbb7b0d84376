/** pgbouncer as the Pooler of clusters with `pooler: pgbouncer`. */
import type { Pooler } from '../pooler.ts';
import { ROLES, SECRETS } from '../../postgres/paths.ts';
import { pgbouncerAuthHbaRules, pgbouncerClientHbaRules } from './hba.ts';
import {
  DATABASES_INI,
  FOLLOW_SCRIPT,
  FOLLOW_UNIT,
  PGBOUNCER_PIDFILE,
  PGBOUNCER_PORT,
  PGBOUNCER_UNIT,
} from './files.ts';
import { sh } from '../../../core/shell.ts';
import { pgbouncerComponent } from './index.ts';
import { readPgbouncerSections, ROUTE_SECTION } from './observation.ts';
import { PGBOUNCER_CHECKS } from './test-checks.ts';

/** PAUSE waits for every server connection to go back to the pool: clients in a session hold theirs */
export const PAUSE_TIMEOUT_S = 10;

/**
 * PAUSE and RESUME by signal (SIGUSR1, SIGUSR2), not on the admin console: a console login
 * waits on auth_query, which has no server for the console's database in pgbouncer 1.18. The
 * pause is complete when pgbouncer holds no server connection any more.
 */
function pauseCommand(): string {
  const held = sh`ss -Htn state established ${'( dport = :5432 )'} -p 2>/dev/null | grep -c "pid=$pid," || true`;
  return [
    sh`pid=$(cat ${PGBOUNCER_PIDFILE}) && kill -USR1 "$pid" || exit 1`,
    `i=0; while [ "$(${held})" -gt 0 ]; do i=$((i+1)); if [ $i -gt ${PAUSE_TIMEOUT_S * 10} ]; then echo "pgbouncer still holds server connections after ${PAUSE_TIMEOUT_S} s: clients in a session keep theirs (session pooling)" >&2; exit 1; fi; sleep 0.1; done`,
  ].join('\n');
}

const resumeCommand = () => sh`kill -USR2 "$(cat ${PGBOUNCER_PIDFILE})"`;

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
      pause: () => pauseCommand(),
      route: (address) => sh`${FOLLOW_SCRIPT} --to ${address}`,
      resume: () => resumeCommand(),
    },
  };
}
