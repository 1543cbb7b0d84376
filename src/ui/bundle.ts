/**
 * The browser code, bundled in memory when the console starts (esbuild, well under a second):
 * no build step to remember, and what is served is always the sources of this checkout.
 * Each file is kept with its gzip form, served when the browser accepts it.
 */
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { UI_WEB_ENTRY } from '../core/files.ts';

export interface Asset {
  type: string;
  body: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer>;
}

export async function bundleWeb(entry = UI_WEB_ENTRY): Promise<Map<string, Asset>> {
  const out = await build({
    entryPoints: { app: entry },
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: '/web',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const assets = new Map<string, Asset>();
  for (const f of out.outputFiles) {
    const name = f.path.slice(f.path.lastIndexOf('/'));
    const type = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    assets.set(name, {
      type,
      body: new Uint8Array(f.contents),
      gzip: new Uint8Array(gzipSync(f.contents, { level: 9 })),
    });
  }
  return assets;
}

/** bytes the browser downloads: as sent (gzip) and unpacked */
export function assetSizes(assets: Map<string, Asset>): { bytes: number; gzip: number } {
  let bytes = 0;
  let gzip = 0;
  for (const a of assets.values()) {
    bytes += a.body.length;
    gzip += a.gzip.length;
  }
  return { bytes, gzip };
}
