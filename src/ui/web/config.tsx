/** config.yml in an editor: validated as `tpa validate` does, saved (and committed) only when valid; its history. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, enc, withCsrf } from './api.ts';
import type { ConfigIssue, HistoryEntry, SaveResult, ValidationResult } from '../types.ts';

function IssueList({ issues, kind }: { issues: ConfigIssue[]; kind: 'error' | 'warning' }) {
  return (
    <ul class={`issues ${kind}`}>
      {issues.map((i, n) => (
        <li key={n} class="issue" data-line={i.line ?? ''} data-path={i.path}>
          {i.line !== undefined ? `line ${i.line}` : 'file'}
          {i.path ? (
            <>
              , <code>{i.path}</code>
            </>
          ) : null}
          : {i.message}
          {i.hint ? <span class="dim"> ({i.hint})</span> : null}
        </li>
      ))}
    </ul>
  );
}

export function ConfigEditor({ id, onSaved }: { id: string; onSaved: () => void }) {
  const [text, setText] = useState<string | null>(null);
  const [result, setResult] = useState<ValidationResult | null>(null);
  const [note, setNote] = useState('');
  const [message, setMessage] = useState('');
  const gutter = useRef<HTMLPreElement>(null);
  useEffect(() => {
    api<{ text: string }>('GET', `/api/groups/${enc(id)}/config`).then(
      (r) => setText(r.text),
      (e: Error) => setNote(e.message),
    );
  }, [id]);
  if (text === null) return <p>{note || 'loading…'}</p>;

  const bad = new Map<number, string>();
  for (const i of result?.errors ?? []) if (i.line !== undefined) bad.set(i.line, `${i.path}: ${i.message}`);
  const lines = text.split('\n').length;

  const validate = async () => {
    setNote('');
    setResult(await api<ValidationResult>('POST', `/api/groups/${enc(id)}/config/validate`, { text }));
  };
  const save = async () => {
    setNote('');
    try {
      const r = await api<SaveResult>('PUT', `/api/groups/${enc(id)}/config`, { text, message });
      setResult(r);
      setNote(r.commit ? `saved and committed as ${r.commit.slice(0, 12)}` : 'no change: nothing to commit');
      onSaved();
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        setResult(e.body as SaveResult);
        setNote('not saved: config.yml is unchanged');
      } else setNote((e as Error).message);
    }
  };
  return (
    <div class="editor">
      <div class="code">
        <pre class="gutter" ref={gutter} aria-hidden="true">
          {Array.from({ length: lines }, (_, n) => (
            <span key={n} class={bad.has(n + 1) ? 'bad' : ''} title={bad.get(n + 1)}>
              {n + 1}
              {'\n'}
            </span>
          ))}
        </pre>
        <textarea
          id="config-text"
          spellcheck={false}
          value={text}
          onInput={(e) => {
            setText(e.currentTarget.value);
            setResult(null);
          }}
          onScroll={(e) => {
            if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
          }}
        />
      </div>
      <div class="actions">
        <button id="validate" onClick={() => void validate()}>
          Validate
        </button>
        <input
          id="commit-message"
          placeholder="what changed (the commit message)"
          value={message}
          onInput={(e) => setMessage(e.currentTarget.value)}
        />
        <button id="save" class="primary" onClick={() => void save()}>
          Save
        </button>
        <a href={withCsrf(`/api/groups/${enc(id)}/config.json`)} download>
          Download as JSON
        </a>
      </div>
      {note ? <p id="config-note">{note}</p> : null}
      {result ? (
        result.ok ? (
          <p class="ok" id="config-valid">
            valid
          </p>
        ) : (
          <IssueList issues={result.errors} kind="error" />
        )
      ) : null}
      {result && result.warnings.length > 0 ? <IssueList issues={result.warnings} kind="warning" /> : null}
    </div>
  );
}

export function History({ id }: { id: string }) {
  const [entries, setEntries] = useState<HistoryEntry[] | null>(null);
  useEffect(() => {
    void api<HistoryEntry[]>('GET', `/api/groups/${enc(id)}/history`).then(setEntries);
  }, [id]);
  if (!entries) return <p>loading…</p>;
  return (
    <ol id="history">
      {entries.map((e) => (
        <li key={e.hash}>
          <details>
            <summary>
              <strong>{e.subject}</strong> <code>{e.hash.slice(0, 10)}</code>{' '}
              <span class="dim">
                {e.author}, {new Date(e.date).toLocaleString()}
              </span>
            </summary>
            <pre class="diff">
              {e.diff.split('\n').map((l, n) => (
                <span key={n} class={l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : ''}>
                  {l}
                  {'\n'}
                </span>
              ))}
            </pre>
          </details>
        </li>
      ))}
    </ol>
  );
}
