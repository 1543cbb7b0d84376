/** Benches measure whole `bin/tpa` processes, as a user runs them (CLI start-up included). */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const TPA = fileURLToPath(new URL('../../bin/tpa', import.meta.url));

export interface Run {
  seconds: number;
  code: number;
  stdout: string;
}

export function tpa(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(TPA, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ seconds: Number(process.hrtime.bigint() - start) / 1e9, code: code ?? 1, stdout }),
    );
  });
}

export async function must(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const r = await tpa(args, env);
  if (r.code !== 0) throw new Error(`tpa ${args.join(' ')} exited ${r.code}`);
  return r;
}
