/**
 * Every component, in the order their resources are applied within a phase. Adding a
 * component is adding its folder and one line here; a failover manager or a pooler is listed
 * in its own registry and brings its component from there.
 */
import type { Component } from './component.ts';
import { commonComponent } from './common/component.ts';
import { postgresComponent } from './postgres/component.ts';
import { allFailoverManagers } from './failover/registry.ts';
import { allPoolers } from './pooler/registry.ts';
import { barmanComponent } from './barman/index.ts';

const own = (xs: { component?: Component }[]) => xs.flatMap((x) => (x.component ? [x.component] : []));

export const components: readonly Component[] = [
  commonComponent,
  postgresComponent,
  ...own(allFailoverManagers()),
  ...own(allPoolers()),
  barmanComponent,
];
