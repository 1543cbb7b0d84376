#!/usr/bin/env bash
# The project's test command (`npm test`): lint, typecheck, unit tests next to the code,
# and — as root on a machine that can run LXC — the integration tests in test/ that
# build real clusters. Ends with "N passed, N failed[, N skipped]".
#   TPA_INTEGRATION=0   run no integration tests (they are reported as skipped)
#   TPA_TEST_ONLY=unit  only lint, typecheck and unit tests
#   TPA_INTEGRATION_JOBS=N  integration files run at once (default 2: each builds its own
#                       group, and most of their time is spent waiting on cron, failover
#                       timeouts and apt, not on the CPU)
set -uo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund

passed=0 failed=0 skipped=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

check() { # name, command...
  local name=$1; shift
  if "$@"; then echo "ok: $name"; passed=$((passed + 1)); else echo "FAILED: $name"; failed=$((failed + 1)); fi
}

count_tap() { # tap file
  local p f s c
  p=$(awk '/^# pass /{print $3}' "$1" | tail -1); f=$(awk '/^# fail /{print $3}' "$1" | tail -1)
  s=$(awk '/^# skipped /{print $3}' "$1" | tail -1); c=$(awk '/^# cancelled /{print $3}' "$1" | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${c:-0})); skipped=$((skipped + ${s:-0}))
  if [ -z "$p" ]; then echo "FAILED: the test runner reported nothing ($1)"; failed=$((failed + 1)); fi
}

run_node_tests() { # tap file, concurrency, files...
  local tap=$1 conc=$2; shift 2
  node --import tsx --test --test-concurrency="$conc" \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" "$@"
  count_tap "$tap"
}

# Unit tests use real sshd, PostgreSQL and strace on this host; as root, install them first.
if [ "$(id -u)" = 0 ]; then bash scripts/install-host-deps.sh; fi

check "lint (eslint)" npx eslint --max-warnings 0 .
check "format (prettier)" npx prettier --check --log-level warn .
check "typecheck (tsc)" npx tsc -p .

# test/support/ holds the helpers the tests share, and their own tests, which are unit tests
mapfile -t unit < <(find src scripts test/support -name '*.test.ts' | sort)
[ ${#unit[@]} -gt 0 ] && run_node_tests "$out/unit.tap" 2 "${unit[@]}"

if [ "${TPA_TEST_ONLY:-}" != unit ]; then
  mapfile -t found < <(find test -path test/support -prune -o -name '*.test.ts' -print | sort)
  # the longest files start first (measured in CI: backup-restore ~23 min, deploy-m1 ~14,
  # failover ~10): files start in this order as slots free up, and a long file started
  # last would run alone at the end
  integ=()
  for f in test/backup-restore.test.ts test/deploy-m1.test.ts test/failover.test.ts; do
    [ -f "$f" ] && integ+=("$f")
  done
  for f in "${found[@]}"; do
    case " ${integ[*]} " in *" $f "*) ;; *) integ+=("$f") ;; esac
  done
  if [ ${#integ[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && [ "${TPA_INTEGRATION:-1}" != 0 ]; then
      run_node_tests "$out/integ.tap" "${TPA_INTEGRATION_JOBS:-2}" "${integ[@]}"
    else
      echo "integration tests need root (and TPA_INTEGRATION unset): ${#integ[@]} files skipped"
      skipped=$((skipped + ${#integ[@]}))
    fi
  fi
fi

if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
[ "$failed" -eq 0 ]
