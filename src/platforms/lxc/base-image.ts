/**
 * The base container every node is cloned from: Debian 12 from lxc's debian template, with the
 * packages every node needs installed once (through the apt proxy) so nodes start fast. It is
 * never started. Its name carries the hash of its recipe, so a changed recipe builds a new base
 * and the old one keeps serving the clones made from it.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventSink } from '../../core/events.ts';
import { aptProxyUrl } from './apt-proxy.ts';
import { progressSink } from './progress.ts';
import { raw, sh as cmd, type Raw } from '../../core/shell.ts';
import { type HostShell } from './host.ts';
import type { HostMirrors } from './mirror.ts';
import { baseContainerName, LXC_PATH } from './names.ts';
import { aptSources, NETWORK_INTERFACES, RESOLV_CONF } from './node-files.ts';

export const RELEASE = 'bookworm';

/** Installed into the base on top of the template's minimal system. */
export const BASE_PACKAGES = [
  'openssh-server',
  'sudo',
  'ca-certificates',
  'locales',
  'gnupg',
  'curl',
  'rsync',
  'iproute2',
  'iputils-ping',
  'procps',
  'less',
  'lsb-release',
  'dbus',
] as const;

/** Bump when the build script changes in a way the nodes should see. */
const RECIPE_VERSION = 1;

export interface BaseRecipe {
  version: number;
  release: string;
  mirrors: HostMirrors;
  packages: string[];
  script: string;
}

export interface BaseImage {
  name: string;
  hash: string;
  rootfs: string;
}

/** What the base is built from; its hash names the base. */
export function baseRecipe(mirrors: HostMirrors): BaseRecipe {
  const recipe: BaseRecipe = {
    version: RECIPE_VERSION,
    release: RELEASE,
    mirrors,
    packages: [...BASE_PACKAGES],
    script: '',
  };
  recipe.script = customiseScript(recipe, raw('$ROOTFS'));
  return recipe;
}

export function recipeHash(recipe: BaseRecipe): string {
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex');
}

export function baseImageOf(recipe: BaseRecipe): BaseImage {
  const hash = recipeHash(recipe);
  const name = baseContainerName(hash);
  return { name, hash, rootfs: join(LXC_PATH, name, 'rootfs') };
}

function markerFile(name: string): string {
  return join(LXC_PATH, name, 'tpa-base.json');
}

/** Is the base there and complete (a build that died halfway leaves no marker)? */
export async function baseReady(name: string): Promise<boolean> {
  const marker = await readFile(markerFile(name), 'utf8').catch(() => '');
  try {
    return (JSON.parse(marker) as { ready?: boolean }).ready === true;
  } catch {
    return false;
  }
}

/**
 * Runs on the host against the base's rootfs, in a chroot with the host's network: installs the
 * packages through the apt proxy and leaves what every node shares (sources, no DNS, eth0 manual).
 * Host keys and machine-id are removed here: every node gets its own.
 */
export function customiseScript(
  recipe: Pick<BaseRecipe, 'mirrors' | 'packages'>,
  rootfs: string | Raw,
): string {
  const heredoc = (path: string, content: string) => `cat > "$R${path}" <<'TPA_EOF'\n${content}TPA_EOF`;
  return [
    'set -eu',
    cmd`R=${rootfs}`,
    'mount -t proc proc "$R/proc"',
    `trap 'umount "$R/proc" 2>/dev/null || true; rm -f "$R/usr/sbin/policy-rc.d" "$R/etc/apt/apt.conf.d/00tpa-build-proxy"' EXIT`,
    // no service may start inside the chroot
    `printf '#!/bin/sh\\nexit 101\\n' > "$R/usr/sbin/policy-rc.d"`,
    'chmod 755 "$R/usr/sbin/policy-rc.d"',
    heredoc('/etc/apt/sources.list', aptSources(recipe.mirrors, RELEASE)),
    `echo 'Acquire::http::Proxy "${aptProxyUrl()}";' > "$R/etc/apt/apt.conf.d/00tpa-build-proxy"`,
    'export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8',
    'chroot "$R" apt-get -q update',
    cmd`chroot "$R" apt-get -q install -y --no-install-recommends ${recipe.packages}`,
    'chroot "$R" apt-get -q clean',
    'rm -f "$R"/etc/ssh/ssh_host_*',
    ': > "$R/etc/machine-id"',
    'rm -f "$R/var/lib/dbus/machine-id"',
    heredoc('/etc/network/interfaces', NETWORK_INTERFACES),
    'rm -f "$R/etc/resolv.conf"',
    heredoc('/etc/resolv.conf', RESOLV_CONF),
    `echo 'LANG=C.UTF-8' > "$R/etc/default/locale"`,
  ].join('\n');
}

/**
 * Makes sure the base for this recipe exists; builds it when not (debootstrap through lxc's
 * template the first time, lxc's template cache after). Call under the host lock.
 */
export async function ensureBaseImage(
  sh: HostShell,
  recipe: BaseRecipe,
  opts: { events?: EventSink; name?: string } = {},
): Promise<{ image: BaseImage; built: boolean; durationMs: number }> {
  const image = baseImageOf(recipe);
  if (opts.name) {
    image.name = opts.name;
    image.rootfs = join(LXC_PATH, opts.name, 'rootfs');
  }
  if (await baseReady(image.name)) return { image, built: false, durationMs: 0 };
  const started = Date.now();
  const events = opts.events;
  const where = { step: 'base image', node: image.name };
  const exists = (await sh.test(cmd`lxc-info -n ${image.name}`)).ok;
  if (exists) await sh.run(cmd`lxc-destroy -n ${image.name}`, where);
  events?.({
    kind: 'info',
    message: `building the base image ${image.name} (Debian ${RELEASE}; once per recipe)`,
  });

  const tmp = await mkdtemp(join(tmpdir(), 'tpa-base-'));
  try {
    const conf = join(tmp, 'lxc.conf');
    // the base is never started; the nodes get their own network configuration
    await writeFile(conf, 'lxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n');
    const security = recipe.mirrors.security ? cmd` --security-mirror=${recipe.mirrors.security}` : '';
    await sh.run(
      cmd`lxc-create -n ${image.name} -t debian -f ${conf} -- -r ${RELEASE} --mirror=${recipe.mirrors.main}${raw(security)}`,
      {
        ...where,
        hint: 'the base is built with debootstrap from the host mirror; check that the mirror answers',
      },
      { timeoutMs: 20 * 60_000, ...(events ? { events: progressSink(events, 'base image') } : {}) },
    );
    await sh.run(
      customiseScript(recipe, image.rootfs),
      { ...where, step: 'base image packages' },
      {
        timeoutMs: 20 * 60_000,
        ...(events ? { events: progressSink(events, 'base image') } : {}),
      },
    );
    const durationMs = Date.now() - started;
    await writeFile(
      markerFile(image.name),
      JSON.stringify(
        { ready: true, hash: image.hash, recipe, builtAt: new Date().toISOString(), durationMs },
        null,
        2,
      ),
    );
    events?.({
      kind: 'info',
      message: `base image ${image.name} built in ${(durationMs / 1000).toFixed(1)} s`,
    });
    return { image, built: true, durationMs };
  } catch (e) {
    // leave nothing half-built behind: the next run starts over
    await sh.test(cmd`lxc-destroy -n ${image.name}`);
    throw e;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Destroys bases of older recipes that no container is cloned from any more. A clone's config
 * names its base's rootfs (overlay lower layer); a base still named by one stays.
 */
export async function pruneOldBases(sh: HostShell, keep: string, events?: EventSink): Promise<string[]> {
  const names = (await readdir(LXC_PATH).catch(() => [] as string[])).filter((n) => n !== keep);
  const bases = names.filter((n) => /^tpa-base-[0-9a-f]{8}$/.test(n));
  if (bases.length === 0) return [];
  const configs = await Promise.all(
    names.map((n) => readFile(join(LXC_PATH, n, 'config'), 'utf8').catch(() => '')),
  );
  const removed: string[] = [];
  for (const base of bases) {
    const lower = join(LXC_PATH, base, 'rootfs');
    if (configs.some((c) => c.includes(`${lower}:`))) continue;
    if ((await sh.test(cmd`lxc-destroy -n ${base}`)).ok) {
      removed.push(`removed unused base image ${base}`);
      events?.({ kind: 'info', message: `removed ${base}: an older base image no node uses any more` });
    }
  }
  return removed;
}
