/** A new group: configure's options, checked as you type by configure's own checks, with the cost before anything is made. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, enc, money } from './api.ts';
import type { WizardCheck, WizardChoices, WizardInput } from '../types.ts';

type Form = Record<string, string>;

const TEXT_FIELDS: [keyof WizardInput, string, string][] = [
  ['dir', 'directory', 'the new cluster directory in the workspace'],
  ['groupName', 'group name', 'default: the directory name'],
  ['clusterName', 'cluster name', 'nodes are NAME-1..N'],
  ['replicas', 'replicas', 'besides the primary (0: no HA)'],
  ['instanceType', 'instance type', 'lxc/bare: small, medium, large; aws: an EC2 type'],
  ['volumeGb', 'volume (GB)', 'data volume size, default 20'],
  ['postgresVersion', 'PostgreSQL version', "default: the distribution's"],
  ['clientCidrs', 'client networks', 'CIDRs allowed to connect, comma separated (default anywhere)'],
  ['backupSchedule', 'backup schedule', 'cron, default "0 2 * * *"'],
  ['retention', 'retention', 'default "RECOVERY WINDOW OF 7 DAYS"'],
  ['addresses', 'addresses', 'platform bare: one per host, comma separated'],
];
const NUMBERS = new Set(['replicas', 'volumeGb', 'postgresVersion']);
const LISTS = new Set(['clientCidrs', 'addresses']);

function toInput(form: Form): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(form)) {
    const t = v.trim();
    if (LISTS.has(k)) out[k] = t ? t.split(/[\s,]+/) : [];
    else if (t === '') continue;
    else if (NUMBERS.has(k)) out[k] = /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
    else out[k] = t;
  }
  return out;
}

export function WizardPage() {
  const [choices, setChoices] = useState<WizardChoices | null>(null);
  const [form, setForm] = useState<Form>({});
  const [check, setCheck] = useState<WizardCheck | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    void api<WizardChoices>('GET', '/api/wizard').then((c) => {
      setChoices(c);
      const f: Form = {};
      for (const [k, v] of Object.entries(c.defaults)) f[k] = Array.isArray(v) ? v.join(', ') : String(v);
      setForm(f);
    });
  }, []);
  useEffect(() => {
    if (!choices) return;
    const t = setTimeout(() => {
      void api<WizardCheck>('POST', '/api/wizard/check', toInput(form)).then(setCheck);
    }, 250);
    return () => clearTimeout(t);
  }, [form, choices]);
  if (!choices) return <p>loading…</p>;

  const set = (k: string, v: string) => setForm({ ...form, [k]: v });
  const errors = (k: string) =>
    (check?.fields[k] ?? []).map((m, n) => (
      <span key={n} class="field-error" id={`err-${k}`}>
        {m}
      </span>
    ));
  const create = async () => {
    setBusy(true);
    try {
      const r = await api<{ id: string }>('POST', '/api/groups', toInput(form));
      location.hash = `#/g/${enc(r.id)}/jobs`;
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) setCheck(e.body as WizardCheck);
      else setCheck({ ok: false, fields: {}, other: [(e as Error).message], hosts: [] });
    } finally {
      setBusy(false);
    }
  };
  const field = (k: keyof WizardInput, label: string, help: string) => (
    <label key={k} class={check?.fields[k] ? 'invalid' : ''}>
      <span class="label">{label}</span>
      <input
        name={k}
        value={form[k] ?? ''}
        onInput={(e) => set(k, e.currentTarget.value)}
        placeholder={help}
      />
      {errors(k)}
    </label>
  );
  const select = (k: keyof WizardChoices['choices']) => (
    <label key={k} class={check?.fields[k] ? 'invalid' : ''}>
      <span class="label">{k.replace(/[A-Z]/g, (l) => ` ${l.toLowerCase()}`)}</span>
      <select name={k} value={form[k]} onChange={(e) => set(k, e.currentTarget.value)}>
        {choices.choices[k].map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
      {errors(k)}
    </label>
  );
  const cost = check?.cost;
  return (
    <section>
      <h1>New group</h1>
      <p class="dim">
        The options of <code>tpa configure</code>. Nothing is created until you press Create; an SSH key pair
        is generated for the group.
      </p>
      <div class="wizard">
        <div class="form">
          {TEXT_FIELDS.slice(0, 4).map(([k, l, h]) => field(k, l, h))}
          {(['platform', 'architecture', 'failoverManager', 'pooler', 'durability', 'backup'] as const).map(
            select,
          )}
          {TEXT_FIELDS.slice(4).map(([k, l, h]) => field(k, l, h))}
        </div>
        <aside>
          <h2>Estimate</h2>
          {check?.other.map((m, n) => (
            <p key={n} class="error">
              {m}
            </p>
          ))}
          {cost ? (
            <>
              <p id="estimate" class="total">
                {money(cost.total, cost.currency)} a month{cost.incomplete ? ' (at least)' : ''}
              </p>
              <table>
                <tbody>
                  {cost.hosts.map((h) => (
                    <tr key={h.name}>
                      <td>{h.name}</td>
                      <td>{h.role}</td>
                      <td>{h.instanceType}</td>
                      <td class="num">{h.monthly === null ? '?' : money(h.monthly)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <p class="dim">{cost.notes.join('; ')}</p>
            </>
          ) : (
            <p class="dim">{check ? 'fix the fields marked to see the estimate' : 'checking…'}</p>
          )}
          <button id="create" class="primary" disabled={!check?.ok || busy} onClick={() => void create()}>
            Create {form.dir || 'group'}
          </button>
          <p class="dim">Then provision and deploy it from its jobs tab.</p>
        </aside>
      </div>
    </section>
  );
}
