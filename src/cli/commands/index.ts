/**
 * Every command of the CLI. A command module exports `register(program, setExit)`;
 * adding a command is adding a file and one line here.
 */
import type { Command } from 'commander';
import { register as secrets } from './secrets.ts';
import { register as validate } from './validate.ts';
import { register as configure } from './configure.ts';
import { register as cost } from './cost.ts';
import { register as provision } from './provision.ts';
import { register as deprovision } from './deprovision.ts';
import { register as plan } from './plan.ts';
import { register as deploy } from './deploy.ts';
import { register as ping } from './ping.ts';
import { register as ssh } from './ssh.ts';
import { register as fault } from './fault.ts';
import { register as test } from './test.ts';
import { register as status } from './status.ts';
import { register as info } from './info.ts';
import { register as psql } from './psql.ts';
import { register as demo } from './demo.ts';
import { register as backup } from './backup.ts';
import { register as backups } from './backups.ts';
import { register as restore } from './restore.ts';

export type SetExit = (code: number) => void;
export type RegisterCommand = (program: Command, setExit: SetExit) => void;

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
];
