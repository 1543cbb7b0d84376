/**
 * The client checks of `tpa test`: on every node, a client without TLS and one with a wrong
 * password must be refused, by postgres and by the cluster's pooler when it has one (whose
 * name the details use). Pure, like every check.
 */
import { poolerOf } from '../components/pooler/registry.ts';
import { errorLine, perNode, type CheckStatus, type ClusterView } from './kit.ts';
import type { ClientProbe } from './observation.ts';

const TLS_REFUSAL = /SSL required|server does not support SSL/i;
const PASSWORD_REFUSAL = /password authentication failed|SASL authentication failed/i;
/** postgres refuses a plain-text client because every TCP rule of pg_hba.conf is hostssl */
const PLAINTEXT_HBA_REFUSAL = /no pg_hba\.conf entry .*(no encryption|SSL off)/i;
const HBA_REFUSAL = /no pg_hba\.conf entry/i;

/** the endpoint did not answer at all: nothing can be said about what it accepts */
const NO_SERVER =
  /Connection refused|Is the server running|timeout expired|No route to host|could not connect/i;

/** the pooler the client checks also go through, if any */
const poolerName = (v: ClusterView) =>
  poolerOf(v.cluster).port === undefined ? undefined : poolerOf(v.cluster).name;

type Refusal = { verdict: 'refused' } | { verdict: 'fail' | 'skip'; why: string };

function refused(p: ClientProbe | undefined, pattern: RegExp, what: string): Refusal {
  if (!p) return { verdict: 'skip', why: `${what}: not tried` };
  if (p.ok) return { verdict: 'fail', why: `${what}: accepted` };
  if (pattern.test(p.output)) return { verdict: 'refused' };
  if (NO_SERVER.test(p.output))
    return { verdict: 'skip', why: `${what}: no server answered (${errorLine(p.output)})` };
  return { verdict: 'fail', why: `${what}: refused for another reason: ${errorLine(p.output)}` };
}

/**
 * A refusal only proves something when the same client gets in with TLS and the right
 * password: otherwise it may be refused for its address (access.client_cidrs) or anything else.
 */
function controlConnection(p: ClientProbe | undefined, what: string): Refusal | undefined {
  if (!p) return { verdict: 'skip', why: `${what}: not tried` };
  if (p.ok) return undefined;
  if (HBA_REFUSAL.test(p.output))
    return {
      verdict: 'skip',
      why: `${what}: this node's own address may not connect (access.client_cidrs), so a refusal proves nothing`,
    };
  if (NO_SERVER.test(p.output))
    return { verdict: 'skip', why: `${what}: no server answered (${errorLine(p.output)})` };
  return { verdict: 'fail', why: `${what}: even TLS with the right password failed: ${errorLine(p.output)}` };
}

/** fail when any attempt failed, else skip when any could not be judged, else pass */
function refusals(outcomes: Refusal[], passDetail: string): [CheckStatus, string] {
  const bad = outcomes.filter((o) => o.verdict === 'fail');
  const unjudged = outcomes.filter((o) => o.verdict === 'skip');
  const why = (xs: Refusal[]) => xs.map((o) => ('why' in o ? o.why : '')).join('; ');
  if (bad.length) return ['fail', why([...bad, ...unjudged])];
  if (unjudged.length) return ['skip', why(unjudged)];
  return ['pass', passDetail];
}

/** both refusals of one endpoint: the control connection first, then the refusal it vouches for */
function endpoint(
  control: ClientProbe | undefined,
  attempt: ClientProbe | undefined,
  pattern: RegExp,
  what: string,
) {
  return controlConnection(control, what) ?? refused(attempt, pattern, what);
}

export const tlsRequired = perNode('tls-required', 'connections without TLS refused', (view, node) => {
  const c = view.obs(node)?.client;
  if (!c) return ['skip', 'not tried'];
  const pooler = poolerName(view);
  return refusals(
    [
      ...(pooler ? [endpoint(c.write, c.noTlsPooler, TLS_REFUSAL, `${pooler} without TLS`)] : []),
      endpoint(c.tlsPostgres, c.noTlsPostgres, PLAINTEXT_HBA_REFUSAL, 'postgres without TLS'),
    ],
    `sslmode=disable refused for being plain text by ${pooler ? `${pooler} and ` : ''}postgres; TLS accepted`,
  );
});

export const wrongPasswordRefused = perNode(
  'wrong-password-refused',
  'wrong password refused',
  (view, node) => {
    const c = view.obs(node)?.client;
    if (!c) return ['skip', 'not tried'];
    const pooler = poolerName(view);
    return refusals(
      [
        ...(pooler ? [endpoint(c.write, c.badPasswordPooler, PASSWORD_REFUSAL, pooler)] : []),
        endpoint(c.tlsPostgres, c.badPasswordPostgres, PASSWORD_REFUSAL, 'postgres'),
      ],
      `refused by password authentication on ${pooler ? `${pooler} and ` : ''}postgres; the right one accepted`,
    );
  },
);
