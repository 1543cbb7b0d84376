/**
 * A connection pooler on every postgres node (pgbouncer today), which sends clients to the
 * node that is the primary now. Everything outside its folder asks it through
 * poolerOf(cluster) (registry.ts) instead of naming it.
 */
import type { Component } from '../component.ts';
import type { ObserveSection, PostgresNeeds } from '../failover/manager.ts';
import type { PgPaths } from '../postgres/paths.ts';
import type { HbaRule } from '../postgres/hba-rule.ts';
import type { Check, NodeObservation, Section } from '../../checks/kit.ts';

export interface Pooler {
  /** the value of clusters[].pooler; also how `tpa test` names the endpoint in its details */
  readonly name: string;
  readonly component?: Component;
  /** systemd units on every postgres node (status, test); the first is the pooler itself */
  units: string[];
  packages(p: PgPaths): string[];
  /**
   * The port clients connect to. `tpa test` tries a write, a client without TLS and a wrong
   * password through it; `tpa info` hands it over as the read-write endpoint.
   */
  port?: number;
  /** roles, ~postgres/.pgpass lines and infrastructure hba rules it needs (its auth user, ...) */
  postgres: Pick<PostgresNeeds, 'roles' | 'hbaRules' | 'pgpass'>;
  /** pg_hba.conf rules of the client section for the clients it forwards */
  clientHbaRules(): HbaRule[];
  /** observation sections (where it routes now), asked by both status and test */
  observeSections(): ObserveSection[];
  /** its sections of a node's observation, read into the key it adds to NodeObservation (see FailoverManager) */
  readSections(sections: Record<string, Section>): Partial<NodeObservation>;
  /** the address a node's pooler sends clients to now, from its observation (status) */
  routeHost(obs: NodeObservation): string | undefined;
  /** the `tpa test` checks that judge this pooler, in report order */
  checks: Check[];
  /**
   * Shell (root) for a switchover: hold every client's next query until resume (fails when it
   * could not within a few seconds), send clients to the primary of now at once, resume.
   */
  switchover?: { pause(): string; route(primaryAddress: string): string; resume(): string };
}

export const noPooler: Pooler = {
  name: 'none',
  units: [],
  packages: () => [],
  postgres: { roles: [], hbaRules: () => [], pgpass: [] },
  clientHbaRules: () => [],
  observeSections: () => [],
  readSections: () => ({}),
  routeHost: () => undefined,
  checks: [],
};
