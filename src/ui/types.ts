/**
 * What the web console's API sends and takes: shared by the server (ui/) and the browser
 * code (ui/web/), which imports only types from here and from core/ (erased when bundled).
 */
import type { ConfigIssue } from '../core/errors.ts';
import type { TpaEvent } from '../core/events.ts';
import type { CostEstimate } from '../model/pricing.ts';
import type { StatusReport } from '../commands/status/index.ts';
import type { ClusterInfo } from '../commands/info/index.ts';

export type { ConfigIssue, TpaEvent, CostEstimate, StatusReport, ClusterInfo };

export interface GroupSummary {
  /** the directory's name under the workspace: the group's id in URLs */
  id: string;
  /** the group's name in config.yml (absent when config.yml is not valid) */
  name?: string;
  platform?: string;
  clusters: { name: string; nodes: number }[];
  nodeCount: number;
  cost?: { total: number; currency: string; incomplete: boolean; basis: CostEstimate['basis']['kind'] };
  provisioned: boolean;
  /** config.yml's problems, when it is not valid */
  configErrors?: ConfigIssue[];
  /** who holds the group's lock now */
  busy?: string;
}

export interface WorkspaceView {
  workspace: string;
  groups: GroupSummary[];
}

export type Health =
  | { state: 'not-provisioned'; detail: string }
  | { state: 'unreachable'; detail: string }
  | { state: 'healthy' | 'degraded'; detail: string; status: StatusReport };

export interface NodeRow {
  cluster?: string;
  name: string;
  role: string;
  upstream?: string;
  instanceType: string;
  volumeGb: number;
  monthly: number | null;
}

export interface GroupView {
  summary: GroupSummary;
  nodes: NodeRow[];
  costNotes: string[];
  /** the whole estimate (tpa cost), for the pricing tab; absent while config.yml is not valid */
  cost?: CostEstimate;
}

export interface ValidationResult {
  ok: boolean;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

export interface SaveResult extends ValidationResult {
  commit?: string | null;
}

export interface HistoryEntry {
  hash: string;
  author: string;
  date: string;
  subject: string;
  diff: string;
}

/** The options of `tpa configure`, as the wizard's form sends them. */
export interface WizardInput {
  dir: string;
  groupName?: string;
  clusterName: string;
  architecture: string;
  platform: string;
  replicas: number;
  failoverManager: string;
  pooler: string;
  durability: string;
  backup: string;
  backupSchedule?: string;
  retention?: string;
  clientCidrs: string[];
  instanceType?: string;
  volumeGb?: number;
  postgresVersion?: number;
  addresses: string[];
}

export interface WizardChoices {
  defaults: WizardInput;
  choices: Record<
    'architecture' | 'platform' | 'failoverManager' | 'pooler' | 'durability' | 'backup',
    string[]
  >;
}

export interface WizardCheck {
  ok: boolean;
  /** field of WizardInput -> its problems */
  fields: Record<string, string[]>;
  /** problems that belong to no one field */
  other: string[];
  hosts: string[];
  cost?: CostEstimate;
}

/** A command of the CLI that runs on a group: what the job form offers. */
export interface JobCommand {
  verb: string;
  description: string;
  /** positional arguments after DIR */
  args: { name: string; required: boolean; variadic: boolean }[];
  options: { flag: string; takesValue: boolean; description: string }[];
  /** the command prints JSON lines with --json */
  json: boolean;
  /** the command asks before destroying something; the console's confirmation answers with --yes */
  yes: boolean;
}

export interface JobRequest {
  verb: string;
  args: string[];
  /** option flag -> value (true for a flag without a value) */
  options: Record<string, string | true>;
  /** the user confirmed the command shown to them */
  confirmed: boolean;
}

export interface JobInfo {
  id: string;
  group: string;
  verb: string;
  /** the command line run, as the user would type it */
  command: string;
  startedAt: string;
  finishedAt?: string;
  state: 'running' | 'succeeded' | 'failed';
  exitCode?: number;
}

/** One line of a job's log (DIR/.tpa/jobs/<id>.jsonl), and one SSE message. */
export type JobLogEntry =
  | { at: string; type: 'event'; event: TpaEvent }
  | { at: string; type: 'stderr'; text: string }
  | { at: string; type: 'result'; result: unknown }
  | { at: string; type: 'end'; job: JobInfo };
