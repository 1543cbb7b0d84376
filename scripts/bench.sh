#!/usr/bin/env bash
# `npm run bench`: runs every bench/*.ts in turn (as root: they build real containers); each
# appends a dated section to bench/results.md. Commit that file to keep the history.
#   bash scripts/bench.sh [name...]   only the named benches (e.g. lxc-provision)
#   BENCH_COLD=1                      the lxc bench also measures a base build from nothing
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
if [ "$(id -u)" != 0 ]; then echo "bench: run as root (the benches create lxc containers)" >&2; exit 2; fi
if [ $# -gt 0 ]; then
  files=(); for n in "$@"; do files+=("bench/${n%.ts}.ts"); done
else
  mapfile -t files < <(find bench -maxdepth 1 -name '*.ts' | sort)
fi
status=0
for f in "${files[@]}"; do
  echo "== $f"
  node --import tsx "$f" || { echo "bench failed: $f" >&2; status=1; }
done
echo "results: bench/results.md"
exit $status
