/** Pricing: group -> cluster -> node -> instance and volume, and what the prices are based on. */
import { Fragment } from 'preact';
import { money } from './api.ts';
import type { CostEstimate } from '../types.ts';

function price(v: number | null, currency: string): string {
  return v === null ? 'unknown' : money(v, currency);
}

function basisText(b: CostEstimate['basis']): string {
  if (b.kind === 'price-table') return `${b.source} — region ${b.region}, prices of ${b.date}`;
  if (b.kind === 'config') return 'prices set in config.yml (prices:)';
  return 'no price table for this platform: machines cost nothing here';
}

function HostRows({ hosts, currency }: { hosts: CostEstimate['hosts']; currency: string }) {
  return (
    <>
      {hosts.map((h) => (
        <tr key={h.name} data-host={h.name}>
          <td>{h.name}</td>
          <td>{h.role}</td>
          <td>{h.instanceType}</td>
          <td class="num">{price(h.instanceMonthly, currency)}</td>
          <td class="num">{h.volumeGb} GB</td>
          <td class="num">{money(h.volumeMonthly, currency)}</td>
          <td class="num">{price(h.monthly, currency)}</td>
        </tr>
      ))}
    </>
  );
}

export function Pricing({ cost }: { cost: CostEstimate | undefined }) {
  if (!cost) return <p class="error">config.yml is not valid: open the config tab.</p>;
  const c = cost.currency;
  const shared = cost.hosts.filter((h) => h.cluster === undefined);
  return (
    <div id="pricing">
      <p class="basis">Based on: {basisText(cost.basis)}</p>
      <table>
        <thead>
          <tr>
            <th>machine</th>
            <th>role</th>
            <th>instance</th>
            <th>instance/month</th>
            <th>volume</th>
            <th>volume/month</th>
            <th>total/month</th>
          </tr>
        </thead>
        <tbody>
          {cost.clusters.map((cl) => (
            <Fragment key={cl.name}>
              <tr class="subtotal" data-cluster={cl.name}>
                <th colSpan={6}>cluster {cl.name}</th>
                <td class="num">{money(cl.monthly, c)}</td>
              </tr>
              <HostRows hosts={cost.hosts.filter((h) => h.cluster === cl.name)} currency={c} />
            </Fragment>
          ))}
          {shared.length > 0 ? (
            <>
              <tr class="subtotal" data-cluster="">
                <th colSpan={6}>shared services</th>
                <td class="num">{money(cost.services.monthly, c)}</td>
              </tr>
              <HostRows hosts={shared} currency={c} />
            </>
          ) : null}
          <tr class="total">
            <th colSpan={6}>group {cost.group}</th>
            <td class="num">{money(cost.total, c)}</td>
          </tr>
        </tbody>
      </table>
      {cost.incomplete ? (
        <p class="error">Some instance types have no price: the total is a lower bound.</p>
      ) : null}
      {cost.notes.length > 0 ? (
        <ul class="dim">
          {cost.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
