/**
 * What the console's tests share: a workspace holding a group made by the real configure, the
 * real server on a free loopback port, and a logged-in client (cookie and CSRF token).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { commands } from '../cli/registry.ts';
import { configure, defaultConfigureRequest, type ConfigureRequest } from '../commands/configure/index.ts';
import { jobCommandsOf, startUi, type UiServer } from './server.ts';

export function configureRequest(dir: string, over: Partial<ConfigureRequest> = {}): ConfigureRequest {
  return { ...defaultConfigureRequest(dir), replicas: 1, ...over };
}

/** the CLI's command tree, as `tpa ui` hands it to the console */
export function cliProgram(): Command {
  const program = new Command('tpa');
  for (const register of commands) register(program, () => {});
  return program;
}

export interface Console {
  workspace: string;
  server: UiServer;
  cookie: string;
  csrf: string;
  /** an API call with the cookie and the CSRF header */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

/** A workspace with group `acme` (lxc, not provisioned) and the console over it. */
export async function startConsole(): Promise<Console> {
  // the vault key stays in the environment of the test (and of the CLI it runs), never in ~/.config
  process.env.TPA_SECRET_KEY ??= randomBytes(32).toString('base64');
  const workspace = await mkdtemp(join(tmpdir(), 'tpa-ui-'));
  await configure(configureRequest(join(workspace, 'acme')));
  const server = await startUi({ workspace, port: 0, commands: jobCommandsOf(cliProgram()) });
  const login = await fetch(server.loginUrl, { redirect: 'manual' });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const html = await (await fetch(server.url, { headers: { cookie } })).text();
  const csrf = /name="tpa-csrf" content="([^"]+)"/.exec(html)?.[1] ?? '';
  return {
    workspace,
    server,
    cookie,
    csrf,
    call: (method, path, body, headers = {}) =>
      fetch(new URL(path, server.url), {
        method,
        headers: {
          cookie,
          'x-tpa-csrf': csrf,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
  };
}
