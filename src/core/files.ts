/**
 * Files tpa ships beside its sources. The URLs are relative to this module, which sits two
 * levels below the repository (src/core/) like the bundle bin/tpa builds (dist/cli/tpa.mjs),
 * so they hold both when run from source and from the bundle. A module deeper down (such as
 * commands/<verb>/) cannot spell them itself.
 */
import { fileURLToPath } from 'node:url';

export const SCHEMA_PATH = fileURLToPath(new URL('../../schema/config.schema.json', import.meta.url));

export const PRICES_FILE = new URL('../../data/prices.json', import.meta.url);

/** the web console's browser code, bundled by the console when it starts (ui/bundle.ts) */
export const UI_WEB_ENTRY = fileURLToPath(new URL('../../src/ui/web/main.tsx', import.meta.url));

/** the CLI as a user runs it: the web console runs operations as jobs through it */
export const TPA_BIN = fileURLToPath(new URL('../../bin/tpa', import.meta.url));
