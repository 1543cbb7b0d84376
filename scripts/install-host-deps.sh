#!/usr/bin/env bash
# Debian packages the lxc platform and the integration tests need on the host (and chromium,
# for the web console's browser test).
# tpa's lxc platform installs them itself too; this makes the test run independent of order.
set -euo pipefail
need=()
for p in lxc debootstrap apt-cacher-ng nftables openssh-client openssh-server sudo postgresql-client-15 postgresql-15 postgresql-15-repmgr iproute2 git shellcheck chromium; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing host packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
