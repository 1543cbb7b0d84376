/**
 * `tpa ui`: the web console's HTTP server (Hono on Node's http). Routes translate between HTTP
 * and the modules beside this one, which call the CLI's own functions; nothing here is a
 * second implementation of an operation.
 */
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { serve, type ServerType } from '@hono/node-server';
import { isTpaError } from '../core/errors.ts';
import { TPA_BIN } from '../core/files.ts';
import { makeTokens, requireToken, securityHeaders, type Tokens } from './auth.ts';
import { assetSizes, bundleWeb, type Asset } from './bundle.ts';
import { configHistory, configJson, readConfig, saveConfig, validateText } from './config-editor.ts';
import { JobRefused, JobRunner } from './jobs.ts';
import { checkWizard, createGroup, WIZARD_CHOICES } from './wizard.ts';
import { groupDir, groupHealth, groupInfo, groupView, workspaceGroups } from './workspace.ts';
import type { JobCommand, JobRequest } from './types.ts';

export { jobCommandsOf } from './job-commands.ts';

export interface UiOptions {
  workspace: string;
  host?: string;
  /** 0: any free port */
  port?: number;
  commands: JobCommand[];
  /** the CLI that jobs run (default bin/tpa) */
  tpaBin?: string;
  /** a host's status and hand-over sheet are given up after this long (default 15 s) */
  remoteTimeoutMs?: number;
  token?: string;
}

export interface UiServer {
  url: string;
  /** the URL to open, with the access token */
  loginUrl: string;
  tokens: Tokens;
  assets: { bytes: number; gzip: number };
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

function page(csrf: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="tpa-csrf" content="${csrf}"><title>tpa console</title>
<link rel="stylesheet" href="/app.css"><script type="module" src="/app.js"></script></head>
<body><div id="app"></div></body></html>
`;
}

async function body(c: Context): Promise<unknown> {
  return c.req.json<unknown>().catch(() => ({}));
}

export function buildApp(
  opts: UiOptions & { tokens: Tokens; assets: Map<string, Asset>; hosts: Set<string> | null },
) {
  const workspace = resolve(opts.workspace);
  const timeout = opts.remoteTimeoutMs ?? 15_000;
  const jobs = new JobRunner({ tpaBin: opts.tpaBin ?? TPA_BIN, commands: opts.commands });
  const app = new Hono();

  app.use('*', securityHeaders);
  app.use('*', requireToken(opts.tokens, opts.hosts));
  app.onError((err, c) => {
    if (err instanceof JobRefused) return c.json({ error: err.message }, err.status);
    if (isTpaError(err))
      return c.json({ error: err.message, hint: err.hint }, err.exitCode === 2 ? 400 : 500);
    return c.json({ error: `internal error: ${err.message}` }, 500);
  });
  app.notFound((c) => c.json({ error: 'not found' }, 404));

  app.get('/', (c) => c.html(page(opts.tokens.csrf)));
  for (const [name, asset] of opts.assets) {
    app.get(name, (c) => {
      const gzip = /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
      c.header('Content-Type', asset.type);
      c.header('Vary', 'Accept-Encoding');
      if (gzip) c.header('Content-Encoding', 'gzip');
      return c.body(gzip ? asset.gzip : asset.body);
    });
  }

  const dirOf = (c: Context) => groupDir(workspace, c.req.param('g')!);

  app.get('/api/workspace', async (c) => c.json({ workspace, groups: await workspaceGroups(workspace) }));
  app.get('/api/commands', (c) => c.json(opts.commands));
  app.get('/api/groups/:g', async (c) => c.json(await groupView(workspace, c.req.param('g'))));
  app.get('/api/groups/:g/health', async (c) =>
    c.json(await groupHealth(workspace, c.req.param('g'), timeout)),
  );
  app.get('/api/groups/:g/info', async (c) => {
    const info = await groupInfo(workspace, c.req.param('g'), timeout).catch((e: Error) => ({
      error: e.message,
    }));
    return c.json(info ?? { error: 'not provisioned: no hand-over sheet yet' });
  });

  app.get('/api/groups/:g/config', async (c) => c.json({ text: await readConfig(dirOf(c)) }));
  app.post('/api/groups/:g/config/validate', async (c) => {
    const { text } = (await body(c)) as { text?: unknown };
    if (typeof text !== 'string') return c.json({ error: 'send {"text": "..."}' }, 400);
    return c.json(validateText(text));
  });
  app.put('/api/groups/:g/config', async (c) => {
    const { text, message } = (await body(c)) as { text?: unknown; message?: unknown };
    if (typeof text !== 'string') return c.json({ error: 'send {"text": "..."}' }, 400);
    const dir = dirOf(c);
    const why = typeof message === 'string' && message.trim() ? message.trim() : 'edit config.yml in tpa ui';
    const r = await saveConfig(dir, text, why);
    return c.json(r, r.ok ? 200 : 422);
  });
  app.get('/api/groups/:g/history', async (c) => c.json(await configHistory(dirOf(c))));
  app.get('/api/groups/:g/config.json', async (c) => {
    c.header('Content-Disposition', `attachment; filename="${c.req.param('g')}-config.json"`);
    c.header('Content-Type', 'application/json; charset=utf-8');
    return c.body(await configJson(dirOf(c)));
  });

  app.get('/api/wizard', (c) => c.json(WIZARD_CHOICES));
  app.post('/api/wizard/check', async (c) => c.json(await checkWizard(workspace, await body(c))));
  app.post('/api/groups', async (c) => {
    const r = await createGroup(workspace, await body(c));
    return r.ok
      ? c.json({ id: resolve(r.result.dir).slice(workspace.length + 1), ...r.result }, 201)
      : c.json(r.check, 422);
  });

  app.get('/api/groups/:g/jobs', async (c) => c.json(await jobs.list(dirOf(c))));
  app.post('/api/groups/:g/jobs', async (c) => {
    const raw = (await body(c)) as Partial<JobRequest>;
    const req: JobRequest = {
      verb: String(raw.verb ?? ''),
      args: Array.isArray(raw.args) ? raw.args.map(String) : [],
      options:
        typeof raw.options === 'object' && raw.options !== null
          ? Object.fromEntries(
              Object.entries(raw.options).map(([k, v]) => [k, v === true ? true : String(v)] as const),
            )
          : {},
      confirmed: raw.confirmed === true,
    };
    return c.json(jobs.start(c.req.param('g'), dirOf(c), req), 202);
  });
  app.get('/api/groups/:g/jobs/:id/events', (c) => {
    const dir = dirOf(c);
    const id = c.req.param('id');
    return streamSSE(c, async (stream) => {
      let ended = false;
      let wake: () => void = () => {};
      const done = new Promise<void>((r) => (wake = r));
      // one write at a time, in order, all flushed before the stream closes
      let writes = Promise.resolve();
      const stop = await jobs.watch(dir, id, (e) => {
        writes = writes.then(() => stream.writeSSE({ event: e.type, data: JSON.stringify(e) }));
        if (e.type === 'end') {
          ended = true;
          wake();
        }
      });
      stream.onAbort(() => wake());
      // a job from before this server started that has no end (the server died): what there is
      if (!ended && !jobs.isRunning(id)) wake();
      await done;
      stop();
      await writes;
    });
  });
  return app;
}

/** Starts the console; resolves once it listens. */
export async function startUi(opts: UiOptions): Promise<UiServer> {
  const host = opts.host ?? '127.0.0.1';
  const tokens = makeTokens(opts.token);
  const assets = await bundleWeb();
  // the Host headers answered (DNS rebinding), known once the port is: filled in below
  const hosts = LOOPBACK.test(host) ? new Set<string>() : null;
  const app = buildApp({ ...opts, tokens, assets, hosts });
  let server: ServerType | undefined;
  const port = await new Promise<number>((ok, fail) => {
    server = serve({ fetch: app.fetch, hostname: host, port: opts.port ?? 0 }, (info: AddressInfo) => {
      for (const h of ['127.0.0.1', 'localhost', '[::1]', host]) hosts?.add(`${h}:${info.port}`);
      ok(info.port);
    });
    server.once('error', fail);
  });
  const shown = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${port}/`;
  return {
    url,
    loginUrl: `${url}?token=${tokens.access}`,
    tokens,
    assets: assetSizes(assets),
    close: () =>
      new Promise<void>((ok) => {
        if ('closeAllConnections' in server!) server.closeAllConnections();
        server!.close(() => ok());
      }),
  };
}
