/**
 * A write ledger for failover tests and benchmarks. Writers insert sequential ids through
 * each pooler, a new connection per write as an application would, and record every
 * acknowledged id, when it was acknowledged and which server took it (inet_server_addr()).
 * A prober asks every node directly, a few times a second, whether it is in recovery.
 * Afterwards verify() reads the ids back from the primary of now and reports what the
 * application saw: the longest time without an acknowledged write, acknowledged writes that
 * are gone, and whether two nodes accepted writes at the same time.
 * Real psql (the host's postgresql-client) over TLS; the password reaches it in a 0600
 * password file, never on a command line.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HOST_PSQL = '/usr/lib/postgresql/15/bin/psql';
const TABLE = 'tpa_ledger';

export interface Endpoint {
  name: string;
  address: string;
  port: number;
}

export interface Write {
  id: number;
  via: string;
  /** ms since the ledger started */
  sentAt: number;
  ackedAt?: number;
  /** the node that acknowledged it */
  server?: string;
  error?: string;
}

export interface Sample {
  node: string;
  at: number;
  writable: boolean;
}

export interface LedgerReport {
  attempted: number;
  acknowledged: number;
  /** longest time between two acknowledged writes, over the whole run (ms) */
  longestGapMs: number;
  /** when that gap started (ms since start) */
  gapStartedAt: number;
  /** acknowledged ids missing on the primary of now */
  lost: number[];
  /** nodes that acknowledged writes, with the first and last acknowledgement (ms) */
  writers: { server: string; first: number; last: number; count: number }[];
  /** two nodes acknowledged writes in overlapping spans of time */
  twoWritersAtOnce: boolean;
  /** the most nodes that answered "not in recovery" in one round of the prober */
  mostWritableAtOnce: number;
}

function psql(conninfo: string, sql: string, passfile: string, timeoutMs: number) {
  return new Promise<{ ok: boolean; out: string }>((resolve) => {
    const child = spawn(
      HOST_PSQL,
      ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-d', conninfo, '-c', sql],
      {
        env: { PATH: '/usr/bin:/bin', PGPASSFILE: passfile, LC_ALL: 'C' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, out: out.trim() });
    });
  });
}

const conninfo = (e: { address: string; port: number }, app: string, connectTimeoutS = 2) =>
  `host=${e.address} port=${e.port} dbname=postgres user=postgres sslmode=require connect_timeout=${connectTimeoutS} application_name=${app}`;

export class Ledger {
  readonly writes: Write[] = [];
  readonly samples: Sample[][] = [];
  private nextId = 1;
  private running = false;
  private loops: Promise<void>[] = [];
  private t0 = 0;
  private passfile = '';
  private tmp = '';

  constructor(
    private readonly poolers: Endpoint[],
    private readonly nodes: Endpoint[],
    private readonly password: string,
    /** how long a writer's connection attempt may take (an application's connect timeout) */
    private readonly connectTimeoutS = 2,
  ) {}

  private now() {
    return Date.now() - this.t0;
  }

  /** creates the table (empty) on the primary, then starts the writers and the prober */
  async start(primary: Endpoint): Promise<void> {
    this.tmp = await mkdtemp(join(tmpdir(), 'tpa-ledger-'));
    this.passfile = join(this.tmp, 'pgpass');
    await writeFile(
      this.passfile,
      `*:*:*:postgres:${this.password.replaceAll('\\', '\\\\').replaceAll(':', '\\:')}\n`,
      {
        mode: 0o600,
      },
    );
    const made = await psql(
      conninfo(primary, 'tpa-ledger'),
      `DROP TABLE IF EXISTS ${TABLE}; CREATE TABLE ${TABLE} (id bigint PRIMARY KEY, via text NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
      this.passfile,
      20_000,
    );
    if (!made.ok) throw new Error(`ledger table on ${primary.name}: ${made.out}`);
    this.t0 = Date.now();
    this.running = true;
    this.loops = [...this.poolers.map((p) => this.writer(p)), this.prober()];
  }

  private async writer(p: Endpoint): Promise<void> {
    while (this.running) {
      const w: Write = { id: this.nextId++, via: p.name, sentAt: this.now() };
      const r = await psql(
        conninfo(p, 'tpa-ledger', this.connectTimeoutS),
        `INSERT INTO ${TABLE} (id, via) VALUES (${w.id}, '${p.name}') RETURNING host(inet_server_addr())`,
        this.passfile,
        (this.connectTimeoutS + 3) * 1000,
      );
      if (r.ok) {
        w.ackedAt = this.now();
        w.server = r.out;
      } else {
        w.error = r.out.split('\n')[0] ?? '';
        await new Promise((res) => setTimeout(res, 100));
      }
      this.writes.push(w);
    }
  }

  private async prober(): Promise<void> {
    while (this.running) {
      const started = Date.now();
      const round = await Promise.all(
        this.nodes.map(async (n) => {
          const r = await psql(
            conninfo(n, 'tpa-ledger-probe'),
            'SELECT pg_is_in_recovery()',
            this.passfile,
            3_000,
          );
          return { node: n.name, at: this.now(), writable: r.ok && r.out === 'f' };
        }),
      );
      this.samples.push(round);
      await new Promise((res) => setTimeout(res, Math.max(0, 250 - (Date.now() - started))));
    }
  }

  /** ms since start */
  elapsed(): number {
    return this.now();
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** removes the password file (verify does it too) */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.tmp) await rm(this.tmp, { recursive: true, force: true });
  }

  /** reads the ids back from `primary` (the primary of now) and sums up */
  async verify(primary: Endpoint): Promise<LedgerReport> {
    const r = await psql(conninfo(primary, 'tpa-ledger'), `SELECT id FROM ${TABLE}`, this.passfile, 30_000);
    await rm(this.tmp, { recursive: true, force: true });
    if (!r.ok) throw new Error(`reading the ledger on ${primary.name}: ${r.out}`);
    const present = new Set(r.out.split('\n').filter(Boolean).map(Number));
    return summarize(this.writes, this.samples, present);
  }
}

/** Pure: the report from what the writers and the prober saw and what the primary holds. */
export function summarize(writes: Write[], samples: Sample[][], present: Set<number>): LedgerReport {
  const acked = writes.filter((w) => w.ackedAt !== undefined).sort((a, b) => a.ackedAt! - b.ackedAt!);
  let longestGapMs = 0;
  let gapStartedAt = 0;
  for (let i = 1; i < acked.length; i++) {
    const gap = acked[i]!.ackedAt! - acked[i - 1]!.ackedAt!;
    if (gap > longestGapMs) {
      longestGapMs = gap;
      gapStartedAt = acked[i - 1]!.ackedAt!;
    }
  }
  const byServer = new Map<string, { server: string; first: number; last: number; count: number }>();
  for (const w of acked) {
    const s = byServer.get(w.server!) ?? { server: w.server!, first: w.ackedAt!, last: w.ackedAt!, count: 0 };
    s.last = w.ackedAt!;
    s.count++;
    byServer.set(w.server!, s);
  }
  const writers = [...byServer.values()].sort((a, b) => a.first - b.first);
  const twoWritersAtOnce = writers.some((a, i) => writers.slice(i + 1).some((b) => b.first < a.last));
  return {
    attempted: writes.length,
    acknowledged: acked.length,
    longestGapMs,
    gapStartedAt,
    lost: acked.filter((w) => !present.has(w.id)).map((w) => w.id),
    writers,
    twoWritersAtOnce,
    mostWritableAtOnce: Math.max(0, ...samples.map((round) => round.filter((s) => s.writable).length)),
  };
}
