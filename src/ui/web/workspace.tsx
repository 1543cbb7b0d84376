/** The workspace: every group with its platform, clusters, nodes, cost and health. */
import { useEffect, useState } from 'preact/hooks';
import { api, enc, money } from './api.ts';
import type { GroupSummary, Health, WorkspaceView } from '../types.ts';

export function HealthBadge({ id }: { id: string }) {
  const [health, setHealth] = useState<Health | null>(null);
  useEffect(() => {
    api<Health>('GET', `/api/groups/${enc(id)}/health`).then(setHealth, (e: Error) =>
      setHealth({ state: 'unreachable', detail: e.message }),
    );
  }, [id]);
  if (!health) return <span class="badge pending">checking…</span>;
  return (
    <span class={`badge ${health.state}`} title={health.detail}>
      {health.state === 'not-provisioned' ? 'not provisioned' : health.state}
    </span>
  );
}

function Row({ g }: { g: GroupSummary }) {
  return (
    <tr>
      <td>
        <a href={`#/g/${enc(g.id)}`}>{g.id}</a>
        {g.name && g.name !== g.id ? <span class="dim"> ({g.name})</span> : null}
      </td>
      <td>{g.platform ?? '—'}</td>
      <td>
        {g.configErrors ? (
          <span class="error">config.yml not valid</span>
        ) : (
          g.clusters.map((c) => c.name).join(', ')
        )}
      </td>
      <td class="num">{g.nodeCount}</td>
      <td class="num">
        {g.cost ? `${money(g.cost.total, g.cost.currency)}${g.cost.incomplete ? '+' : ''}` : '—'}
      </td>
      <td>
        <HealthBadge id={g.id} />
        {g.busy ? (
          <span class="badge busy" title={g.busy}>
            busy
          </span>
        ) : null}
      </td>
    </tr>
  );
}

export function WorkspacePage() {
  const [view, setView] = useState<WorkspaceView | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api<WorkspaceView>('GET', '/api/workspace').then(setView, (e: Error) => setError(e.message));
  }, []);
  if (error) return <p class="error">{error}</p>;
  if (!view) return <p>loading…</p>;
  return (
    <section>
      <h1>Workspace</h1>
      <p class="dim">{view.workspace}</p>
      {view.groups.length === 0 ? (
        <p>
          No cluster directory here yet. <a href="#/new">Create a group</a>.
        </p>
      ) : (
        <table id="groups">
          <thead>
            <tr>
              <th>group</th>
              <th>platform</th>
              <th>clusters</th>
              <th>nodes</th>
              <th>monthly</th>
              <th>health</th>
            </tr>
          </thead>
          <tbody>
            {view.groups.map((g) => (
              <Row key={g.id} g={g} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
