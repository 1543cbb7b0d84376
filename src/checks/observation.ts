/**
 * What one node answered to the observation script (observe.ts), as data, with the small
 * helpers that read tools' output. Imports nothing: a failover manager or pooler adds the
 * key of its own sections to NodeObservation from its folder (an interface merged by
 * TypeScript), so this file never names one.
 */

/** One framed section of the script's output. */
export interface Section {
  output: string;
  exitCode: number;
}

export interface WalReceiver {
  status: string;
  senderHost: string | null;
  senderPort: number | null;
  receivedTli: number | null;
}

export interface ReplicationRow {
  applicationName: string;
  clientAddr: string | null;
  state: string;
  syncState: string;
  replayLagBytes: number | null;
  replayLagS: number | null;
}

export interface PgObservation {
  inRecovery: boolean;
  version: string;
  lsn: string | null;
  receiveLsn: string | null;
  timeline: number | null;
  startedAt: string;
  systemId: string;
  replayDelayS: number | null;
  walReceiver: WalReceiver | null;
  replication: ReplicationRow[];
}

export interface ClientProbe {
  ok: boolean;
  output: string;
}

export interface NodeObservation {
  node: string;
  /** unit -> `systemctl is-active` answer (active, inactive, failed, ...) */
  services: Record<string, string>;
  /** present when postgres answered on the local socket */
  pg?: PgObservation;
  /** why postgres did not answer */
  pgError?: string;
  /** the start guard's message when it refused to start the server as a second primary */
  fenced?: string;
  /** package -> installed version */
  packages?: Record<string, string>;
  client?: {
    /** through this node's pooler, when the cluster has one */
    write?: ClientProbe & { server?: string; inRecovery?: boolean; serverTls?: boolean };
    noTlsPooler?: ClientProbe;
    badPasswordPooler?: ClientProbe;
    /** the right password over TLS to postgres: ok when it connected and the session is TLS */
    tlsPostgres: ClientProbe;
    noTlsPostgres: ClientProbe;
    badPasswordPostgres: ClientProbe;
  };
}

/**
 * The line of a tool's output that says what went wrong, without the tool's prefix
 * (`psql: error: `, or that of the tool named) nor the server's `ERROR:`.
 */
export function errorLine(text: string, tool = 'psql'): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const line = lines.find((l) => /\b(FATAL|ERROR|error):/.test(l)) ?? lines.at(-1) ?? '';
  return line
    .replace(new RegExp(`^${tool.replace(/\W/g, '\\$&')}: error: `), '')
    .replace(/^(ERROR|FATAL):\s+/, '')
    .trim();
}

export function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .at(-1) ?? ''
  );
}

/** `0/3000148` -> bytes; undefined for anything else */
export function lsnBytes(lsn: string | null | undefined): bigint | undefined {
  const m = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(lsn ?? '');
  if (!m) return undefined;
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}
