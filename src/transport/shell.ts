/**
 * Pieces both transports share: sudo wrapping, redaction, streamed output,
 * and the atomic-upload script (content arrives on stdin, never in argv).
 */
import type { EventSink } from '../core/events.ts';
import { sh } from '../core/shell.ts';
import type { UploadOptions } from './transport.ts';

/** Run `command` as root through sudo; -n so a missing NOPASSWD rule fails instead of hanging. */
export function sudoWrap(command: string): string {
  return sh`sudo -n sh -c ${command}`;
}

/** Replace every secret with *** (longest first, so overlapping secrets are all hidden). */
export function redact(text: string, secrets: readonly string[] | undefined): string {
  if (!secrets?.length) return text;
  let out = text;
  for (const s of [...secrets].filter((x) => x.length > 0).sort((a, b) => b.length - a.length)) {
    out = out.split(s).join('***');
  }
  return out;
}

/**
 * Collects one stream of a command and emits it line by line as `output` events.
 * Lines are redacted whole, so a secret is never split across two events.
 */
export class StreamCollector {
  private readonly chunks: Buffer[] = [];
  private pending = '';
  constructor(
    private readonly host: string,
    private readonly stream: 'stdout' | 'stderr',
    private readonly events: EventSink | undefined,
    private readonly secrets: readonly string[] | undefined,
  ) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    if (!this.events) return;
    this.pending += chunk.toString('utf8');
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      this.emit(this.pending.slice(0, nl));
      this.pending = this.pending.slice(nl + 1);
    }
  }

  /** Flush a last unterminated line; returns everything collected. */
  finish(): string {
    if (this.pending) this.emit(this.pending);
    this.pending = '';
    return Buffer.concat(this.chunks).toString('utf8');
  }

  private emit(line: string): void {
    this.events?.({ kind: 'output', host: this.host, stream: this.stream, text: redact(line, this.secrets) });
  }
}

/**
 * A script that writes stdin to `path` atomically: a temp file in the same directory
 * (mktemp makes it 0600, so secrets are never readable in between), mode and owner set
 * on the temp file, then rename over the target.
 */
export function atomicWriteScript(path: string, opts: UploadOptions = {}): string {
  const slash = path.lastIndexOf('/');
  const dir = slash > 0 ? path.slice(0, slash) : slash === 0 ? '/' : '.';
  const base = path.slice(slash + 1);
  if (!base) throw new Error(`upload: not a file path: ${path}`);
  const mode = (opts.mode ?? 0o644).toString(8).padStart(4, '0');
  const owner = opts.owner ?? '';
  const group = opts.group ?? '';
  const lines = [
    'set -e',
    sh`t=$(mktemp ${`${dir}/.${base}.tpa-XXXXXX`})`,
    `trap 'rm -f "$t"' EXIT`,
    'cat > "$t"',
    `chmod ${mode} "$t"`,
  ];
  if (owner || group) lines.push(sh`chown ${`${owner}${group ? `:${group}` : ''}`} "$t"`);
  lines.push(sh`mv -f "$t" ${path}`, 'trap - EXIT');
  return lines.join('\n');
}

export const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

/** Node fires longer timers at once; about 24 days is plenty for any command. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** How long to wait for a command's pipes to close after it exited (a daemon may hold them). */
export const PIPE_DRAIN_MS = 2000;

export function timeoutHint(ms: number): string {
  return `the command did not finish within ${Math.round(ms / 1000)} s and was killed; raise timeoutMs if it needs longer`;
}
