/** A group: its clusters and nodes (with their state when the machines answer), pricing, config, history and jobs. */
import { useEffect, useState } from 'preact/hooks';
import { api, enc, money } from './api.ts';
import { ConfigEditor, History } from './config.tsx';
import { Jobs } from './jobs.tsx';
import { Pricing } from './pricing.tsx';
import type { ClusterInfo, GroupView, Health, NodeRow, StatusReport } from '../types.ts';

const TABS = ['overview', 'pricing', 'config', 'history', 'jobs'] as const;

function lag(s: StatusReport['nodes'][number] | undefined): string {
  if (!s || s.role !== 'replica') return '';
  const parts = [
    s.lagBytes !== undefined ? `${s.lagBytes} B` : '',
    s.lagSeconds !== undefined ? `${s.lagSeconds.toFixed(1)} s` : '',
  ].filter(Boolean);
  return parts.join(', ') || '?';
}

function Nodes({ nodes, health }: { nodes: NodeRow[]; health: Health | null }) {
  const status = health && 'status' in health ? health.status : undefined;
  const row = (name: string) => status?.nodes.find((n) => n.node === name);
  return (
    <table id="nodes">
      <thead>
        <tr>
          <th>cluster</th>
          <th>node</th>
          <th>role</th>
          <th>state</th>
          <th>upstream</th>
          <th>lag</th>
          <th>timeline</th>
          <th>instance</th>
          <th>volume</th>
          <th>monthly</th>
        </tr>
      </thead>
      <tbody>
        {nodes.map((n) => {
          const s = row(n.name);
          const role = s && s.role !== 'unknown' ? s.role : n.role;
          return (
            <tr key={n.name}>
              <td>{n.cluster ?? 'services'}</td>
              <td>{n.name}</td>
              <td>
                {role}
                {s && s.role !== 'unknown' && s.role !== s.configuredRole ? (
                  <span class="dim"> (config: {s.configuredRole})</span>
                ) : null}
              </td>
              <td>{s ? <span class={`badge ${s.state}`}>{s.state}</span> : <span class="dim">—</span>}</td>
              <td>{s?.upstream ?? n.upstream ?? ''}</td>
              <td>{lag(s)}</td>
              <td>{s?.timeline ?? ''}</td>
              <td>{n.instanceType}</td>
              <td class="num">{n.volumeGb} GB</td>
              <td class="num">{n.monthly === null ? '?' : money(n.monthly)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function HandOver({ id }: { id: string }) {
  const [info, setInfo] = useState<ClusterInfo | { error: string } | null | 'loading'>(null);
  if (info === null)
    return (
      <button
        onClick={() => (
          setInfo('loading'),
          void api<ClusterInfo>('GET', `/api/groups/${enc(id)}/info`).then(setInfo, (e: Error) =>
            setInfo({ error: e.message }),
          )
        )}
      >
        Load the hand-over sheet
      </button>
    );
  if (info === 'loading') return <p>asking the hosts…</p>;
  if ('error' in info) return <p class="dim">{info.error}</p>;
  return (
    <div id="handover">
      <p>
        PostgreSQL {info.postgresVersion} on {info.platform}, tpa {info.tpaVersion}; backups:{' '}
        {info.backup.mode}
        {info.backup.schedule ? ` (${info.backup.schedule}, ${info.backup.retention})` : ''}
      </p>
      <h3>Connections</h3>
      <ul>
        {info.connections.map((c) => (
          <li key={c.uri}>
            <code>{c.uri}</code> <span class="dim">{c.kind}</span>
          </li>
        ))}
      </ul>
      <h3>Machines</h3>
      <ul>
        {info.hosts.map((h) => (
          <li key={h.name}>
            {h.name} {h.address} <code>{h.ssh.command}</code>{' '}
            <span class="dim">
              {Object.entries(h.packages)
                .map(([p, v]) => `${p} ${v}`)
                .join(', ')}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function GroupPage({ id, tab }: { id: string; tab: string }) {
  const [view, setView] = useState<GroupView | null>(null);
  const [health, setHealth] = useState<Health | null>(null);
  const [error, setError] = useState('');
  const [reload, setReload] = useState(0);
  useEffect(() => {
    setView(null);
    setHealth(null);
  }, [id]);
  useEffect(() => {
    api<GroupView>('GET', `/api/groups/${enc(id)}`).then(setView, (e: Error) => setError(e.message));
    api<Health>('GET', `/api/groups/${enc(id)}/health`).then(setHealth, (e: Error) =>
      setHealth({ state: 'unreachable', detail: e.message }),
    );
  }, [id, reload]);
  if (error) return <p class="error">{error}</p>;
  if (!view) return <p>loading…</p>;
  const s = view.summary;
  return (
    <section>
      <h1>
        {s.id} {s.name && s.name !== s.id ? <span class="dim">({s.name})</span> : null}
      </h1>
      <p class="summary">
        {s.platform ?? '?'} · {s.clusters.length} cluster{s.clusters.length === 1 ? '' : 's'} · {s.nodeCount}{' '}
        machines · {s.cost ? `${money(s.cost.total, s.cost.currency)} a month` : 'cost unknown'} ·{' '}
        {health ? (
          <span class={`badge ${health.state}`} title={health.detail}>
            {health.detail}
          </span>
        ) : (
          <span class="badge pending">checking…</span>
        )}
        {s.busy ? <span class="badge busy">busy: {s.busy}</span> : null}
      </p>
      <nav class="tabs">
        {TABS.map((t) => (
          <a key={t} href={`#/g/${enc(id)}/${t}`} class={t === tab ? 'active' : ''}>
            {t}
          </a>
        ))}
      </nav>
      {tab === 'config' ? (
        <ConfigEditor id={id} onSaved={() => setReload((n) => n + 1)} />
      ) : tab === 'history' ? (
        <History id={id} />
      ) : tab === 'jobs' ? (
        <Jobs id={id} />
      ) : tab === 'pricing' ? (
        <Pricing cost={view.cost} />
      ) : (
        <>
          {s.configErrors ? (
            <p class="error">config.yml is not valid: open the config tab.</p>
          ) : (
            <Nodes nodes={view.nodes} health={health} />
          )}
          <p class="dim">{view.costNotes.join('; ')}</p>
          <h2>Hand-over sheet</h2>
          <HandOver id={id} />
        </>
      )}
    </section>
  );
}
