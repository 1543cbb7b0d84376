/**
 * The new-group wizard: the options of `tpa configure`, checked by configure's own
 * prepareConfig (the same checks as the CLI, nothing written), each problem mapped back to the
 * form field of its option, with the cost estimate; Create runs configure itself. The SSH key
 * pair is always generated: the browser does not name files on the server.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, TpaError, UsageError } from '../core/errors.ts';
import { CONFIG_FILE } from '../clusterdir/index.ts';
import { parseConfig } from '../model/parse.ts';
import { estimateCost } from '../model/pricing.ts';
import {
  ARCHITECTURES,
  BACKUP_MODES,
  DURABILITIES,
  FAILOVER_MANAGERS,
  PLATFORMS,
  POOLERS,
} from '../model/schema.ts';
import {
  configure,
  defaultConfigureRequest,
  prepareConfig,
  type ConfigureRequest,
  type ConfigureResult,
} from '../commands/configure/index.ts';
import { loadPriceTable } from '../commands/cost/index.ts';
import type { WizardCheck, WizardChoices, WizardInput } from './types.ts';

/** configure's defaults, less what the wizard does not ask (SSH key files: a key pair is made) */
function wizardDefaults(): WizardInput {
  const { sshKeyFiles: _keyFiles, ...defaults } = defaultConfigureRequest('');
  return defaults;
}

export const WIZARD_CHOICES: WizardChoices = {
  defaults: wizardDefaults(),
  choices: {
    architecture: [...ARCHITECTURES],
    platform: [...PLATFORMS],
    failoverManager: [...FAILOVER_MANAGERS],
    pooler: [...POOLERS],
    durability: [...DURABILITIES],
    backup: [...BACKUP_MODES],
  },
};

const optional = <T extends z.ZodType>(t: T) => t.optional();
const InputSchema = z.object({
  dir: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'a directory name: letters, digits, . _ - (no slashes)'),
  groupName: optional(z.string().min(1)),
  clusterName: z.string().min(1, 'give a cluster name'),
  architecture: z.enum(ARCHITECTURES),
  platform: z.enum(PLATFORMS),
  replicas: z.number().int('a whole number').min(0).max(20),
  failoverManager: z.enum(FAILOVER_MANAGERS),
  pooler: z.enum(POOLERS),
  durability: z.enum(DURABILITIES),
  backup: z.enum(BACKUP_MODES),
  backupSchedule: optional(z.string().min(1)),
  retention: optional(z.string().min(1)),
  clientCidrs: z.array(z.string()),
  instanceType: optional(z.string().min(1)),
  volumeGb: optional(z.number().int('a whole number').min(1).max(65536)),
  postgresVersion: optional(z.number().int('a whole number').min(1).max(99)),
  addresses: z.array(z.string()),
});

/** configure's option -> the wizard's field (configure names its problems by option) */
const FIELD_OF_OPTION: Record<string, keyof WizardInput> = {
  '--client-cidr': 'clientCidrs',
  '--address': 'addresses',
  '--volume-gb': 'volumeGb',
  '--postgres-version': 'postgresVersion',
  '--postgres-package-version': 'postgresVersion',
};
const fieldOf = (option: string) =>
  FIELD_OF_OPTION[option] ??
  option.replace(/^--/, '').replace(/-([a-z])/g, (_, l: string) => l.toUpperCase());

type Checked = { ok: true; request: ConfigureRequest } | { ok: false; check: WizardCheck };

function toRequest(workspace: string, raw: unknown): Checked {
  const fields: Record<string, string[]> = {};
  const add = (field: string, message: string) => (fields[field] ??= []).push(message);
  const parsed = InputSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) add(String(issue.path[0] ?? 'form'), issue.message);
    return { ok: false, check: { ok: false, fields, other: [], hosts: [] } };
  }
  const input = parsed.data;
  if (existsSync(join(workspace, input.dir))) add('dir', `${input.dir} already exists in the workspace`);
  if (Object.keys(fields).length > 0)
    return { ok: false, check: { ok: false, fields, other: [], hosts: [] } };
  const { dir, ...options } = input;
  return { ok: true, request: { ...options, dir: join(workspace, dir), sshKeyFiles: [] } };
}

function problems(e: unknown): WizardCheck {
  const fields: Record<string, string[]> = {};
  const other: string[] = [];
  const add = (field: string, message: string) => (fields[field] ??= []).push(message);
  if (e instanceof ConfigError) {
    for (const i of e.issues) {
      const text = i.message + (i.hint ? ` (${i.hint})` : '');
      if (i.file.startsWith('--')) add(fieldOf(i.file), text);
      else other.push(`${i.path}: ${text}`);
    }
  } else if (e instanceof UsageError) {
    const option = /^(--[a-z-]+)/.exec(e.message)?.[1];
    const text = e.message + (e.hint ? ` (${e.hint})` : '');
    if (option) add(fieldOf(option), text);
    else other.push(text);
  } else {
    throw e;
  }
  return { ok: false, fields, other, hosts: [] };
}

/** The wizard's check as the user types: configure's own checks and the cost; writes nothing. */
export async function checkWizard(workspace: string, raw: unknown): Promise<WizardCheck> {
  const r = toRequest(workspace, raw);
  if (!r.ok) return r.check;
  try {
    const { text, hosts } = await prepareConfig(r.request);
    const config = parseConfig(text, CONFIG_FILE).config!;
    return { ok: true, fields: {}, other: [], hosts, cost: estimateCost(config, await loadPriceTable()) };
  } catch (e) {
    return problems(e);
  }
}

/** Runs configure; its problems come back as the check's, so the form shows them at their fields. */
export async function createGroup(
  workspace: string,
  raw: unknown,
): Promise<{ ok: true; result: ConfigureResult } | { ok: false; check: WizardCheck }> {
  const r = toRequest(workspace, raw);
  if (!r.ok) return r;
  try {
    return { ok: true, result: await configure(r.request) };
  } catch (e) {
    if (e instanceof TpaError && !(e instanceof ConfigError) && !(e instanceof UsageError)) throw e;
    return { ok: false, check: problems(e) };
  }
}
