/**
 * The stack image: a copy of the base image with the packages deploy will install (PostgreSQL,
 * the failover manager, the pooler; see components/preinstall.ts) already installed, so a new
 * node's deploy finds them there instead of unpacking them itself, on every node, every time.
 * It is never started; nodes are overlay clones of it. Its name carries the hash of its recipe:
 * the base, the package list, the files written before the install, and the versions the
 * host's apt lists offer for those packages, so a newer package in the mirror (after the host's
 * `apt-get update`) builds a new stack and the old one keeps serving the nodes cloned from it.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventSink } from '../../core/events.ts';
import { sh as cmd, type Raw } from '../../core/shell.ts';
import type { Preinstall } from '../platform.ts';
import { aptProxyUrl } from './apt-proxy.ts';
import { progressSink } from './progress.ts';
import type { BaseImage } from './base-image.ts';
import type { HostShell } from './host.ts';
import { LXC_PATH, TPA_PREFIX } from './names.ts';

/** Bump when the build script changes in a way the nodes should see. */
const RECIPE_VERSION = 2;
const STACK_NAME = /^tpa-stack-[0-9a-f]{8}$/;

export interface StackRecipe {
  version: number;
  base: string;
  preinstall: Preinstall;
  /** package=version the host's apt lists offer ("?" for a package they do not know) */
  candidates: string[];
}

export interface StackImage {
  name: string;
  rootfs: string;
  /** the hash without the candidate versions: stacks of the same list, older versions */
  listHash: string;
}

const hash = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex');

export function stackImageOf(recipe: StackRecipe): StackImage {
  const name = `${TPA_PREFIX}stack-${hash(recipe).slice(0, 8)}`;
  const { candidates: _ignored, ...list } = recipe;
  return { name, rootfs: join(LXC_PATH, name, 'rootfs'), listHash: hash(list).slice(0, 16) };
}

/** `apt-cache policy` output -> package=candidate for each package asked about. */
export function parseCandidates(policy: string, packages: readonly string[]): string[] {
  const found = new Map<string, string>();
  let current: string | undefined;
  for (const line of policy.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head) current = head[1];
    const cand = /^\s+Candidate:\s*(\S+)/.exec(line);
    if (cand && current) found.set(current, cand[1]!);
  }
  return packages.map((p) => `${p}=${found.get(p) ?? '?'}`);
}

export async function stackRecipe(
  sh: HostShell,
  base: BaseImage,
  preinstall: Preinstall,
): Promise<StackRecipe> {
  const policy = await sh.test(cmd`LC_ALL=C apt-cache policy ${preinstall.packages}`);
  return {
    version: RECIPE_VERSION,
    base: base.name,
    preinstall,
    candidates: parseCandidates(policy.stdout, preinstall.packages),
  };
}

function markerFile(name: string): string {
  return join(LXC_PATH, name, 'tpa-stack.json');
}

interface StackMarker {
  ready: boolean;
  listHash: string;
  base: string;
  installed: string[];
}

async function readMarker(name: string): Promise<StackMarker | undefined> {
  try {
    return JSON.parse(await readFile(markerFile(name), 'utf8')) as StackMarker;
  } catch {
    return undefined;
  }
}

/**
 * Runs on the host against the stack's rootfs, in a chroot: the files, then the packages through
 * the apt proxy with no service started, then the quiet units disabled. Prints what got
 * installed (package=version), one per line.
 */
export function stackScript(p: Preinstall, rootfs: string | Raw): string {
  const files = p.files.flatMap((f) => {
    const path = cmd`"$R"${f.path}`;
    return [
      cmd`mkdir -p "$R"${f.path.slice(0, f.path.lastIndexOf('/'))}`,
      `cat > ${path} <<'TPA_EOF'\n${f.content}TPA_EOF`,
      `chmod ${f.mode.toString(8)} ${path}`,
    ];
  });
  return [
    'set -eu',
    cmd`R=${rootfs}`,
    'mount -t proc proc "$R/proc"',
    `trap 'umount "$R/proc" 2>/dev/null || true; rm -f "$R/usr/sbin/policy-rc.d" "$R/etc/apt/apt.conf.d/00tpa-build-proxy"' EXIT`,
    `printf '#!/bin/sh\\nexit 101\\n' > "$R/usr/sbin/policy-rc.d"`,
    'chmod 755 "$R/usr/sbin/policy-rc.d"',
    `echo 'Acquire::http::Proxy "${aptProxyUrl()}";' > "$R/etc/apt/apt.conf.d/00tpa-build-proxy"`,
    'export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8',
    ...files,
    'chroot "$R" apt-get -q update >&2',
    cmd`chroot "$R" apt-get -q install -y --no-install-recommends ${p.packages} >&2`,
    // enabled by their packages: deploy enables them on the nodes that run them
    ...p.quietUnits.map(
      (u) => cmd`find "$R/etc/systemd/system" -name ${u.includes('.') ? u : `${u}.service`} -type l -delete`,
    ),
    // and those that come as SysV init scripts (repmgr's repmgrd): K links, which upgrades keep
    ...p.quietUnits
      .filter((u) => !u.includes('.'))
      .map((u) => cmd`if [ -e "$R/etc/init.d/"${u} ]; then chroot "$R" update-rc.d ${u} disable >&2; fi`),
    // made by ssl-cert at install: one private key shared by every node is no key at all
    'rm -f "$R/etc/ssl/private/ssl-cert-snakeoil.key" "$R/etc/ssl/certs/ssl-cert-snakeoil.pem"',
    'chroot "$R" apt-get -q clean',
    cmd`chroot "$R" dpkg-query -W -f '\${Package}=\${Version}\\n' ${p.packages}`,
  ].join('\n');
}

/**
 * Makes sure the stack for this recipe exists; builds it from the base when not (a full copy
 * of the base, then the chroot install). Call under the host lock that guards the base.
 */
export async function ensureStackImage(
  sh: HostShell,
  base: BaseImage,
  recipe: StackRecipe,
  events?: EventSink,
): Promise<{ image: StackImage; built: boolean; durationMs: number }> {
  const image = stackImageOf(recipe);
  if ((await readMarker(image.name))?.ready) return { image, built: false, durationMs: 0 };
  const started = Date.now();
  const where = { step: 'stack image', node: image.name };
  if ((await sh.test(cmd`lxc-info -n ${image.name}`)).ok)
    await sh.run(cmd`lxc-destroy -n ${image.name}`, where);
  events?.({
    kind: 'info',
    message: `building the stack image ${image.name}: ${recipe.preinstall.packages.length} packages preinstalled for every node (once per package set and version)`,
  });
  try {
    await sh.run(cmd`lxc-copy -n ${base.name} -N ${image.name}`, where, { timeoutMs: 10 * 60_000 });
    const installed = await sh.run(
      stackScript(recipe.preinstall, image.rootfs),
      {
        ...where,
        step: 'stack image packages',
        hint: 'the packages come through the apt proxy from the host mirror',
      },
      { timeoutMs: 20 * 60_000, ...(events ? { events: progressSink(events, 'stack image') } : {}) },
    );
    const durationMs = Date.now() - started;
    const marker: StackMarker & { recipe: StackRecipe; builtAt: string; durationMs: number } = {
      ready: true,
      listHash: image.listHash,
      base: base.name,
      installed: installed.trim().split('\n').filter(Boolean),
      recipe,
      builtAt: new Date().toISOString(),
      durationMs,
    };
    await writeFile(markerFile(image.name), JSON.stringify(marker, null, 2));
    events?.({
      kind: 'info',
      message: `stack image ${image.name} built in ${(durationMs / 1000).toFixed(1)} s`,
    });
    return { image, built: true, durationMs };
  } catch (e) {
    await sh.test(cmd`lxc-destroy -n ${image.name}`);
    throw e;
  }
}

/**
 * Destroys stacks no container is cloned from any more when they are stale: built on another
 * base, or the same package list at older versions. Stacks of other package lists (another
 * group's configuration) stay for their next provision.
 */
export async function pruneOldStacks(
  sh: HostShell,
  keep: StackImage,
  base: string,
  events?: EventSink,
): Promise<string[]> {
  const names = (await readdir(LXC_PATH).catch(() => [] as string[])).filter((n) => n !== keep.name);
  const stacks = names.filter((n) => STACK_NAME.test(n));
  if (stacks.length === 0) return [];
  const configs = await Promise.all(
    names.map((n) => readFile(join(LXC_PATH, n, 'config'), 'utf8').catch(() => '')),
  );
  const removed: string[] = [];
  for (const stack of stacks) {
    const lower = join(LXC_PATH, stack, 'rootfs');
    if (configs.some((c) => c.includes(`${lower}:`))) continue;
    const m = await readMarker(stack);
    const stale = !m || m.base !== base || m.listHash === keep.listHash;
    if (!stale) continue;
    if ((await sh.test(cmd`lxc-destroy -n ${stack}`)).ok) {
      removed.push(`removed unused stack image ${stack}`);
      events?.({ kind: 'info', message: `removed ${stack}: an older stack image no node uses any more` });
    }
  }
  return removed;
}
