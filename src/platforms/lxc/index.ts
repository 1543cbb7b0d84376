/**
 * The lxc platform: every node a Debian 12 container with systemd, sshd and apt, on a bridge of
 * its group's own, on this machine. The embedded default: a Debian host with root needs nothing else.
 */
import type { Platform, PlatformContext } from '../platform.ts';
import { lxcFaults } from './faults.ts';
import { findOrphans, removeOrphan } from './orphans.ts';
import { HostShell } from './host.ts';
import { preflight } from './preflight.ts';
import { provisionLxc } from './provision.ts';
import { deprovisionLxc } from './teardown.ts';

export const lxcPlatform: Platform = {
  name: 'lxc',
  async preflight(ctx: PlatformContext): Promise<void> {
    await preflight(new HostShell(undefined, ctx.events), ctx.events);
  },
  provision: (ctx) => provisionLxc(ctx),
  deprovision: (ctx) => deprovisionLxc(ctx),
  faults: (ctx) => lxcFaults(ctx),
  orphans: {
    find: (events) => findOrphans(new HostShell(undefined, events)),
    remove: (orphan, events) => removeOrphan(new HostShell(undefined, events), orphan, events),
  },
};
