/** Operations as jobs: pick a command, confirm what it will do, watch its events live; the group's job history. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, enc, withCsrf } from './api.ts';
import type { JobCommand, JobInfo, JobLogEntry, JobRequest, TpaEvent } from '../types.ts';

function eventText(e: TpaEvent): string | null {
  switch (e.kind) {
    case 'phase-started':
      return `== ${e.phase}${e.hosts?.length ? ` (${e.hosts.join(', ')})` : ''}`;
    case 'phase-finished':
      return `   ${e.phase} ${e.ok ? `done in ${(e.durationMs / 1000).toFixed(1)}s` : 'failed'}`;
    case 'task':
      return `   ${e.host} ${e.status} ${e.task}${e.detail ? ` — ${e.detail}` : ''}`;
    case 'output':
      return null;
    case 'info':
      return `${e.host ? `   ${e.host} ` : ''}${e.message}`;
    case 'warning':
      return `warning: ${e.host ? `${e.host}: ` : ''}${e.message}`;
    case 'done':
      return e.summary;
    case 'timing':
      return null;
  }
}

function entryLine(e: JobLogEntry): { text: string; cls: string } | null {
  if (e.type === 'event') {
    const text = eventText(e.event);
    const cls =
      e.event.kind === 'warning' ? 'warn' : e.event.kind === 'done' ? (e.event.ok ? 'ok' : 'error') : '';
    return text === null ? null : { text, cls };
  }
  if (e.type === 'stderr') return { text: e.text, cls: 'dim' };
  if (e.type === 'result') return { text: JSON.stringify(e.result, null, 2), cls: 'result' };
  return {
    text: `job ${e.job.state} (exit code ${e.job.exitCode})`,
    cls: e.job.state === 'succeeded' ? 'ok' : 'error',
  };
}

function JobLog({ group, job }: { group: string; job: string }) {
  const [entries, setEntries] = useState<JobLogEntry[]>([]);
  useEffect(() => {
    setEntries([]);
    const es = new EventSource(withCsrf(`/api/groups/${enc(group)}/jobs/${enc(job)}/events`));
    const on = (m: MessageEvent<string>) => {
      const e = JSON.parse(m.data) as JobLogEntry;
      setEntries((xs) => [...xs, e]);
      if (e.type === 'end') es.close();
    };
    for (const t of ['event', 'stderr', 'result', 'end']) es.addEventListener(t, on);
    return () => es.close();
  }, [group, job]);
  return (
    <pre class="log" id="job-log">
      {entries.map((e, n) => {
        const l = entryLine(e);
        return l ? (
          <span key={n} class={l.cls}>
            {l.text}
            {'\n'}
          </span>
        ) : null;
      })}
    </pre>
  );
}

function commandLine(group: string, c: JobCommand, args: string[], options: Record<string, string | true>) {
  return [
    'tpa',
    c.verb,
    group,
    ...args,
    ...Object.entries(options).map(([k, v]) => (v === true ? k : `${k}=${v}`)),
  ].join(' ');
}

export function Jobs({ id }: { id: string }) {
  const [commands, setCommands] = useState<JobCommand[]>([]);
  const [jobs, setJobs] = useState<JobInfo[]>([]);
  const [verb, setVerb] = useState('deploy');
  const [args, setArgs] = useState<string[]>([]);
  const [options, setOptions] = useState<Record<string, string | true>>({});
  const [confirming, setConfirming] = useState(false);
  const [shown, setShown] = useState<string | null>(null);
  const [error, setError] = useState('');
  const refresh = () => void api<JobInfo[]>('GET', `/api/groups/${enc(id)}/jobs`).then(setJobs);
  useEffect(() => {
    void api<JobCommand[]>('GET', '/api/commands').then(setCommands);
    refresh();
    const t = setInterval(refresh, 3000);
    return () => clearInterval(t);
  }, [id]);
  const command = commands.find((c) => c.verb === verb);
  const run = async () => {
    setConfirming(false);
    setError('');
    try {
      const body: JobRequest = { verb, args, options, confirmed: true };
      const job = await api<JobInfo>('POST', `/api/groups/${enc(id)}/jobs`, body);
      setShown(job.id);
      refresh();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <div class="jobs">
      <div class="job-form">
        <select
          id="job-verb"
          value={verb}
          onChange={(e) => {
            setVerb(e.currentTarget.value);
            setArgs([]);
            setOptions({});
          }}
        >
          {commands.map((c) => (
            <option key={c.verb} value={c.verb}>
              {c.verb}
            </option>
          ))}
        </select>
        {command?.args.map((a, n) => (
          <input
            key={a.name}
            placeholder={`${a.name}${a.required ? '' : ' (optional)'}`}
            value={args[n] ?? ''}
            onInput={(e) => {
              const next = [...args];
              next[n] = e.currentTarget.value;
              setArgs(next.filter((x, i) => x !== '' || i < n));
            }}
          />
        ))}
        {command?.options.map((o) =>
          o.takesValue ? (
            <input
              key={o.flag}
              title={o.description}
              placeholder={o.flag}
              value={typeof options[o.flag] === 'string' ? (options[o.flag] as string) : ''}
              onInput={(e) => {
                const { [o.flag]: _, ...rest } = options;
                const v = e.currentTarget.value;
                setOptions(v ? { ...rest, [o.flag]: v } : rest);
              }}
            />
          ) : (
            <label key={o.flag} title={o.description} class="flag">
              <input
                type="checkbox"
                checked={options[o.flag] === true}
                onChange={(e) => {
                  const { [o.flag]: _, ...rest } = options;
                  setOptions(e.currentTarget.checked ? { ...rest, [o.flag]: true } : rest);
                }}
              />
              {o.flag}
            </label>
          ),
        )}
        <button id="job-run" class="primary" disabled={!command} onClick={() => setConfirming(true)}>
          Run…
        </button>
      </div>
      {command ? <p class="dim">{command.description}</p> : null}
      {error ? (
        <p class="error" id="job-error">
          {error}
        </p>
      ) : null}
      {confirming && command ? (
        <div class="dialog" role="dialog" id="job-confirm">
          <p>
            This runs <code>{commandLine(id, command, args, options)}</code> on group <strong>{id}</strong>:{' '}
            {command.description}.
          </p>
          {command.yes ? <p class="error">It destroys something and will not ask again.</p> : null}
          <p class="dim">One job per group at a time; the group is locked while it runs.</p>
          <button id="job-confirm-run" class="primary" onClick={() => void run()}>
            Run it
          </button>
          <button onClick={() => setConfirming(false)}>Cancel</button>
        </div>
      ) : null}
      {shown ? <JobLog group={id} job={shown} /> : null}
      <h2>History</h2>
      <table id="job-history">
        <tbody>
          {jobs.map((j) => (
            <tr key={j.id} class={j.id === shown ? 'active' : ''}>
              <td>
                <a href={`#/g/${enc(id)}/jobs`} onClick={() => setShown(j.id)}>
                  {j.command}
                </a>
              </td>
              <td>
                <span class={`badge ${j.state}`}>{j.state}</span>
              </td>
              <td class="dim">{new Date(j.startedAt).toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
