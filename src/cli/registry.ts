/**
 * Every command of the CLI. A command's commands/<verb>/cli.ts exports
 * `register(program, setExit)`; adding a command is adding its folder and one line here.
 */
import type { RegisterCommand } from './types.ts';
import { register as secrets } from '../commands/secrets/cli.ts';
import { register as validate } from '../commands/validate/cli.ts';
import { register as configure } from '../commands/configure/cli.ts';
import { register as cost } from '../commands/cost/cli.ts';
import { register as provision } from '../commands/provision/cli.ts';
import { register as deprovision } from '../commands/deprovision/cli.ts';
import { register as plan } from '../commands/plan/cli.ts';
import { register as deploy } from '../commands/deploy/cli.ts';
import { register as ping } from '../commands/ping/cli.ts';
import { register as ssh } from '../commands/ssh/cli.ts';
import { register as fault } from '../commands/fault/cli.ts';
import { register as test } from '../commands/test/cli.ts';
import { register as status } from '../commands/status/cli.ts';
import { register as info } from '../commands/info/cli.ts';
import { register as psql } from '../commands/psql/cli.ts';
import { register as demo } from '../commands/demo/cli.ts';
import { register as backup } from '../commands/backup/cli.ts';
import { register as backups } from '../commands/backups/cli.ts';
import { register as restore } from '../commands/restore/cli.ts';
import { register as rejoin } from '../commands/rejoin/cli.ts';
import { register as rebuild } from '../commands/rebuild/cli.ts';
import { register as addReplica } from '../commands/add-replica/cli.ts';
import { register as removeNode } from '../commands/remove-node/cli.ts';
import { register as addCluster } from '../commands/add-cluster/cli.ts';
import { register as removeCluster } from '../commands/remove-cluster/cli.ts';
import { register as switchover } from '../commands/switchover/cli.ts';
import { register as upgrade } from '../commands/upgrade/cli.ts';
import { register as resize } from '../commands/resize/cli.ts';
import { register as fork } from '../commands/fork/cli.ts';
import { register as ui } from '../commands/ui/cli.ts';

export const commands: RegisterCommand[] = [
  configure,
  validate,
  cost,
  secrets,
  provision,
  deprovision,
  plan,
  deploy,
  ping,
  ssh,
  fault,
  test,
  status,
  info,
  psql,
  demo,
  backup,
  backups,
  restore,
  rejoin,
  rebuild,
  addReplica,
  removeNode,
  addCluster,
  removeCluster,
  switchover,
  upgrade,
  resize,
  fork,
  ui,
];
