/**
 * Every component, in the order their resources are applied within a phase. Adding a
 * component is adding its folder and one line here.
 */
import type { Component } from './component.ts';
import { commonComponent } from './common/component.ts';
import { postgresComponent } from './postgres/component.ts';
import { repmgrComponent } from './failover/repmgr/index.ts';
import { pgbouncerComponent } from './pooler/pgbouncer/index.ts';
import { barmanComponent } from './barman/index.ts';

export const components: readonly Component[] = [
  commonComponent,
  postgresComponent,
  repmgrComponent,
  pgbouncerComponent,
  barmanComponent,
];
