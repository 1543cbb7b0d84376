/** pgbouncer as the Pooler of clusters with `pooler: pgbouncer`. */
import type { Pooler } from '../pooler.ts';
import { ROLES, SECRETS } from '../../postgres/paths.ts';
import { pgbouncerAuthHbaRules, pgbouncerClientHbaRules } from './hba.ts';
import { DATABASES_INI, FOLLOW_UNIT, PGBOUNCER_PORT, PGBOUNCER_UNIT } from './files.ts';
import { pgbouncerComponent } from './index.ts';
import { readPgbouncerSections, ROUTE_SECTION } from './observation.ts';
import { PGBOUNCER_CHECKS } from './test-checks.ts';

/** A function, not a constant: the registry is imported by modules this folder imports (postgres/hba.ts). */
export function pgbouncerPooler(): Pooler {
  return {
    name: 'pgbouncer',
    component: pgbouncerComponent,
    units: [PGBOUNCER_UNIT, FOLLOW_UNIT],
    packages: () => ['pgbouncer'],
    port: PGBOUNCER_PORT,
    postgres: {
      roles: [{ name: ROLES.pgbouncerAuth, attributes: ['LOGIN'], secret: SECRETS.pgbouncer }],
      hbaRules: pgbouncerAuthHbaRules,
    },
    clientHbaRules: pgbouncerClientHbaRules,
    observeSections: () => [{ name: ROUTE_SECTION, body: `sed -n 's/^\\* *= *//p' ${DATABASES_INI} 2>&1` }],
    readSections: readPgbouncerSections,
    checks: PGBOUNCER_CHECKS,
  };
}
