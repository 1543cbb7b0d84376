/**
 * Test fixtures of the check tests: a group of three nodes (main-3 cascading from main-2),
 * and observations of it as a healthy cluster answers, built from real outputs of PostgreSQL
 * 15, repmgr 5.3 and pgbouncer 1.18 on Debian 12. Each test changes what it needs; find and
 * failed pick results out of what the checks said.
 */
import assert from 'node:assert/strict';
import type { Inventory } from '../../src/platforms/platform.ts';
import { MAIN_ADDRESSES, threeNodeConfig, threeNodeInventory } from './fixtures.ts';
import type { CheckResult, Evidence } from '../../src/checks/evaluate.ts';
import { DEFAULT_THRESHOLDS } from '../../src/checks/evaluate.ts';
import type { NodeObservation, PgObservation } from '../../src/checks/observation.ts';

export const ADDR = MAIN_ADDRESSES;

export function config() {
  return threeNodeConfig();
}

export function inventory(): Inventory {
  return threeNodeInventory();
}

/** what repmgr 5.3 printed on a three-node cluster (main-3 cascading from main-2) */
export const REPMGR_TABLE = ` ID | Name   | Role    | Status    | Upstream | Location | Priority | Timeline | Connection string
----+--------+---------+-----------+----------+----------+----------+----------+------------------------------------------
 1  | main-1 | primary | * running |          | default  | 100      | 1        | host=10.0.3.11 port=5432 user=repmgr
 2  | main-2 | standby |   running | main-1   | default  | 99       | 1        | host=10.0.3.12 port=5432 user=repmgr
 3  | main-3 | standby |   running | main-2   | default  | 98       | 1        | host=10.0.3.13 port=5432 user=repmgr`;

/** observation script output: sections framed as checks/observe.ts frames them, with exit codes */
export function framed(sections: [string, string, number][]): string {
  return (
    sections.map(([name, out, rc]) => `@@tpa-begin ${name}\n${out}\n@@tpa-end ${name} ${rc}`).join('\n') +
    '\n'
  );
}

function pg(over: Partial<PgObservation>): PgObservation {
  return {
    inRecovery: true,
    version: '15.20 (Debian 15.20-0+deb12u1)',
    lsn: '0/301BF68',
    receiveLsn: '0/301BF68',
    timeline: 1,
    startedAt: '2026-11-22T16:33:03.051815+00:00',
    systemId: '7711034581542229746',
    replayDelayS: 2.5,
    walReceiver: null,
    replication: [],
    ...over,
  };
}

const refusedTls = 'psql: error: connection to server at "X", port 6432 failed: FATAL:  SSL required';
const refusedHba =
  'psql: error: connection to server at "X", port 5432 failed: FATAL:  no pg_hba.conf entry for host "X", user "postgres", database "postgres", no encryption';
const badPwBouncer =
  'psql: error: connection to server at "X", port 6432 failed: FATAL:  SASL authentication failed';
const badPwPostgres =
  'psql: error: connection to server at "X", port 5432 failed: FATAL:  password authentication failed for user "postgres"';

function client(): NonNullable<NodeObservation['client']> {
  return {
    write: {
      ok: true,
      output: '{"server":"10.0.3.11"}',
      server: ADDR['main-1']!,
      inRecovery: false,
      serverTls: true,
    },
    noTlsPooler: { ok: false, output: refusedTls },
    badPasswordPooler: { ok: false, output: badPwBouncer },
    tlsPostgres: { ok: true, output: 't' },
    noTlsPostgres: { ok: false, output: refusedHba },
    badPasswordPostgres: { ok: false, output: badPwPostgres },
  };
}

const repmgrTable = [
  { id: 1, name: 'main-1', role: 'primary', status: '* running', upstream: '' },
  { id: 2, name: 'main-2', role: 'standby', status: 'running', upstream: 'main-1' },
  { id: 3, name: 'main-3', role: 'standby', status: 'running', upstream: 'main-2' },
];

function observation(node: string, p: PgObservation): NodeObservation {
  return {
    node,
    services: {
      'postgresql@15-main': 'active',
      repmgrd: 'active',
      pgbouncer: 'active',
      'tpa-pgbouncer-follow': 'active',
    },
    pg: p,
    pgbouncer: { route: `host=${ADDR['main-1']} port=5432`, routeHost: ADDR['main-1']! },
    repmgr: { ok: true, table: structuredClone(repmgrTable) },
    client: client(),
  };
}

export function healthyObservations(): Record<string, NodeObservation> {
  return {
    'main-1': observation(
      'main-1',
      pg({
        inRecovery: false,
        receiveLsn: null,
        replayDelayS: null,
        replication: [
          {
            applicationName: 'main-2',
            clientAddr: ADDR['main-2']!,
            state: 'streaming',
            syncState: 'async',
            replayLagBytes: 0,
            replayLagS: null,
          },
        ],
      }),
    ),
    'main-2': observation(
      'main-2',
      pg({
        walReceiver: { status: 'streaming', senderHost: ADDR['main-1']!, senderPort: 5432, receivedTli: 1 },
        replication: [
          {
            applicationName: 'main-3',
            clientAddr: ADDR['main-3']!,
            state: 'streaming',
            syncState: 'async',
            replayLagBytes: 0,
            replayLagS: 0.002,
          },
        ],
      }),
    ),
    'main-3': observation(
      'main-3',
      pg({
        walReceiver: { status: 'streaming', senderHost: ADDR['main-2']!, senderPort: 5432, receivedTli: 1 },
      }),
    ),
  };
}

export function healthyEvidence(): Evidence {
  const written = {
    primary: 'm-p',
    'pgbouncer@main-1': 'm-1',
    'pgbouncer@main-2': 'm-2',
    'pgbouncer@main-3': 'm-3',
  };
  const all = Object.values(written);
  return {
    config: config(),
    inventory: inventory(),
    observations: healthyObservations(),
    unreachable: {},
    thresholds: { ...DEFAULT_THRESHOLDS },
    markers: {
      main: {
        written,
        primaryWrite: { ok: true, detail: 'row m-p written on main-1' },
        replicas: {
          'main-2': { found: [...all], waitedMs: 300 },
          'main-3': { found: [...all], waitedMs: 500 },
        },
        timeoutMs: 30_000,
      },
    },
  };
}

/** the one result of a check (on a node), failing the test when there is none */
export function find(results: CheckResult[], check: string, node?: string): CheckResult {
  const r = results.find((x) => x.check === check && x.node === node);
  assert.ok(r, `a result for ${check}${node ? ` on ${node}` : ''}`);
  return r;
}

/** `check@node` of every failed result */
export function failed(results: CheckResult[]): string[] {
  return results.filter((r) => r.status === 'fail').map((r) => `${r.check}${r.node ? `@${r.node}` : ''}`);
}
