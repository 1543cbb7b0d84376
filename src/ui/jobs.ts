/**
 * Operations as jobs: the real CLI (bin/tpa VERB DIR ... --json) as a child process, no shell,
 * its arguments an array. Its JSON-lines events (core/events.ts), its stderr and its result
 * become the job's log, DIR/.tpa/jobs/<id>.jsonl (0600), streamed to whoever watches. One job
 * per group: the runner refuses a second itself, and refuses while anyone holds the group's
 * lock; the child takes that lock for every command that changes the group (cli/group-lock.ts).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describeHolder, ensureStateDir, lockHolder } from '../clusterdir/lock.ts';
import type { EventKind, TpaEvent } from '../core/events.ts';
import type { JobCommand, JobInfo, JobLogEntry, JobRequest } from './types.ts';

export const JOB_ID = /^[a-z0-9]+-[a-f0-9]{6}$/;

/** a job refused: `status` is the HTTP status that says why */
export class JobRefused extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

const EVENT_KINDS: Record<EventKind, true> = {
  'phase-started': true,
  'phase-finished': true,
  task: true,
  output: true,
  info: true,
  warning: true,
  done: true,
  timing: true,
};
const isEvent = (x: unknown): x is TpaEvent =>
  typeof x === 'object' && x !== null && ((x as { kind?: unknown }).kind as string) in EVENT_KINDS;

interface Running {
  info: JobInfo;
  entries: JobLogEntry[];
  watchers: Set<(e: JobLogEntry) => void>;
}

export interface JobRunnerOptions {
  tpaBin: string;
  commands: JobCommand[];
  env?: NodeJS.ProcessEnv;
}

export class JobRunner {
  private readonly running = new Map<string, Running>();
  /** group id -> its running job's id */
  private readonly byGroup = new Map<string, string>();

  constructor(private readonly opts: JobRunnerOptions) {}

  /** The argument array for a request, checked against the command's declared arguments and options. */
  argv(dir: string, req: JobRequest): { argv: string[]; command: JobCommand } {
    const command = this.opts.commands.find((c) => c.verb === req.verb);
    if (!command) throw new JobRefused(400, `tpa ${req.verb} is not an operation the console runs`);
    const required = command.args.filter((a) => a.required).length;
    const variadic = command.args.some((a) => a.variadic);
    if (req.args.length < required || (!variadic && req.args.length > command.args.length)) {
      throw new JobRefused(
        400,
        `tpa ${req.verb} takes ${command.args.map((a) => a.name).join(', ') || 'no arguments'} after DIR`,
      );
    }
    const argv = [req.verb, dir];
    for (const a of req.args) {
      if (a.startsWith('-') || a === '')
        throw new JobRefused(400, `argument ${JSON.stringify(a)} is not valid`);
      argv.push(a);
    }
    for (const [flag, value] of Object.entries(req.options)) {
      const o = command.options.find((x) => x.flag === flag);
      if (!o) throw new JobRefused(400, `tpa ${req.verb} has no option ${flag}`);
      if (o.takesValue !== (value !== true)) {
        throw new JobRefused(400, `${flag} ${o.takesValue ? 'takes a value' : 'takes no value'}`);
      }
      argv.push(value === true ? flag : `${flag}=${value}`);
    }
    if (command.json) argv.push('--json');
    if (command.yes) argv.push('--yes');
    return { argv, command };
  }

  /** Starts a job on group `group` (directory `dir`), or throws JobRefused. */
  start(group: string, dir: string, req: JobRequest): JobInfo {
    if (!req.confirmed) throw new JobRefused(400, 'a job runs only once its confirmation was accepted');
    const { argv } = this.argv(dir, req);
    const other = this.byGroup.get(group);
    if (other !== undefined) {
      throw new JobRefused(
        409,
        `group ${group} is busy: job ${other} (${this.running.get(other)!.info.command}) runs`,
      );
    }
    const holder = lockHolder(dir);
    if (holder) throw new JobRefused(409, `group ${group} is busy: ${describeHolder(holder)} holds its lock`);

    const jobsDir = join(ensureStateDir(dir), 'jobs');
    mkdirSync(jobsDir, { recursive: true, mode: 0o700 });
    const id = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const info: JobInfo = {
      id,
      group,
      verb: req.verb,
      command: ['tpa', req.verb, group, ...argv.slice(2)].join(' '),
      startedAt: new Date().toISOString(),
      state: 'running',
    };
    const logFile = join(jobsDir, `${id}.jsonl`);
    const metaFile = join(jobsDir, `${id}.json`);
    closeSync(openSync(logFile, 'a', 0o600));
    const job: Running = { info, entries: [], watchers: new Set() };
    this.running.set(id, job);
    this.byGroup.set(group, id);
    writeFileSync(metaFile, JSON.stringify(info) + '\n', { mode: 0o600 });

    const record = (entry: JobLogEntry) => {
      appendFileSync(logFile, JSON.stringify(entry) + '\n', { mode: 0o600 });
      job.entries.push(entry);
      for (const w of job.watchers) w(entry);
    };
    const at = () => new Date().toISOString();
    const child = spawn(this.opts.tpaBin, argv, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...(this.opts.env ?? process.env), NO_COLOR: '1' },
    });
    // stdout: JSON-lines events, then the result (printed over several lines)
    let result = '';
    createInterface({ input: child.stdout }).on('line', (line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      if (isEvent(parsed)) record({ at: at(), type: 'event', event: parsed });
      else result += line + '\n';
    });
    createInterface({ input: child.stderr }).on('line', (text) => record({ at: at(), type: 'stderr', text }));
    const finish = (code: number) => {
      if (result.trim() !== '') {
        try {
          record({ at: at(), type: 'result', result: JSON.parse(result) });
        } catch {
          record({ at: at(), type: 'stderr', text: result.trimEnd() });
        }
      }
      info.finishedAt = at();
      info.exitCode = code;
      info.state = code === 0 ? 'succeeded' : 'failed';
      record({ at: info.finishedAt, type: 'end', job: { ...info } });
      writeFileSync(metaFile, JSON.stringify(info) + '\n', { mode: 0o600 });
      this.byGroup.delete(group);
      // the log stays in the file; the memory only for a little while, for late watchers
      setTimeout(() => this.running.delete(id), 60_000).unref();
    };
    child.on('error', (e) => {
      record({ at: at(), type: 'stderr', text: `cannot run ${this.opts.tpaBin}: ${e.message}` });
      finish(1);
    });
    child.on('close', (code, signal) => finish(code ?? (signal ? 1 : 0)));
    return { ...info };
  }

  isRunning(id: string): boolean {
    return this.running.get(id)?.info.state === 'running';
  }

  /** the group's jobs, newest first */
  async list(dir: string): Promise<JobInfo[]> {
    const jobsDir = join(dir, '.tpa', 'jobs');
    const names = (await readdir(jobsDir).catch(() => [])).filter((n) => n.endsWith('.json'));
    const jobs: JobInfo[] = [];
    for (const n of names) {
      const live = this.running.get(n.slice(0, -'.json'.length));
      if (live) {
        jobs.push({ ...live.info });
        continue;
      }
      try {
        jobs.push(JSON.parse(await readFile(join(jobsDir, n), 'utf8')) as JobInfo);
      } catch {
        // a job whose start was being written
      }
    }
    return jobs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /**
   * The job's log so far, then each new entry until it ends. Returns a function that stops
   * watching; `onEntry` sees an 'end' entry last.
   */
  async watch(dir: string, id: string, onEntry: (e: JobLogEntry) => void): Promise<() => void> {
    if (!JOB_ID.test(id)) throw new JobRefused(404, `no job ${id}`);
    const live = this.running.get(id);
    if (live) {
      for (const e of live.entries) onEntry(e);
      if (live.info.state !== 'running') return () => {};
      live.watchers.add(onEntry);
      return () => live.watchers.delete(onEntry);
    }
    const text = await readFile(join(dir, '.tpa', 'jobs', `${id}.jsonl`), 'utf8').catch(() => {
      throw new JobRefused(404, `no job ${id}`);
    });
    const entries = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as JobLogEntry);
    for (const e of entries) onEntry(e);
    return () => {};
  }
}
