/**
 * psql as the postgres OS user over the local socket (peer auth): the one way every script
 * builder runs SQL as the superuser on a host.
 */
import { raw, sh, type ShellValue } from '../../core/shell.ts';
import { PG_OS_USER, PG_PORT } from './paths.ts';

export interface PsqlOptions {
  /** the SQL, as `-c`; without it psql reads SQL from its stdin */
  sql?: string;
  /** database name or conninfo; raw('"$db"') for a shell variable. Default postgres */
  db?: ShellValue;
  /** -A -t: bare values, one row a line, for scripts to read. Default true */
  tuplesOnly?: boolean;
  /** -v ON_ERROR_STOP=1: a failing statement fails psql. Default true */
  onErrorStop?: boolean;
  /** -p PG_PORT: Debian's pg_wrapper would otherwise pick the cluster. Default true */
  port?: boolean;
  /** more psql arguments, before -c */
  args?: readonly ShellValue[];
  /** the psql to run, e.g. raw('"$b"'). Default PSQL_BIN */
  bin?: ShellValue;
}

/**
 * The newest psql binary itself rather than Debian's /usr/bin/psql, a Perl wrapper that costs
 * more CPU than most of the queries tpa runs (facts and checks run dozens per node); the
 * wrapper when no binary is there.
 */
export const PSQL_BIN = raw(
  // shell builtins only: the glob sorts 10..99 right, and Debian has no older major any more
  '"$(for b in /usr/lib/postgresql/*/bin/psql; do [ -x "$b" ] && p=$b; done; echo "${p:-psql}")"',
);

/**
 * One simple command (usable in a pipeline, in $( ), after `timeout`): `env -C /` because
 * psql run as postgres must not start in a directory it cannot read (root's home).
 */
export function psqlAsPostgres(o: PsqlOptions = {}): string {
  const flags = [
    raw('-X'),
    ...(o.tuplesOnly === false ? [] : [raw('-A -t')]),
    raw('-q'),
    ...(o.onErrorStop === false ? [] : [raw('-v ON_ERROR_STOP=1')]),
    ...(o.port === false ? [] : [raw(sh`-p ${PG_PORT}`)]),
    raw(sh`-d ${o.db ?? 'postgres'}`),
    ...(o.args ?? []),
    ...(o.sql === undefined ? [] : [raw(sh`-c ${o.sql}`)]),
  ];
  return sh`env -C / runuser -u ${PG_OS_USER} -- ${o.bin ?? PSQL_BIN} ${flags}`;
}
