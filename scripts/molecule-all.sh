#!/usr/bin/env bash
# Runs every molecule scenario (`molecule test`), after building the local container images
# they use (nothing is pulled: no registry is reachable). Fails if any scenario fails.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export PATH="${VENV:-$PWD/.venv}/bin:$PATH"
python3 scripts/check-test-subnets.py || exit 1
scripts/build-container-image.sh || exit 1
# aoe_client_kernel builds a kernel: its image adds linux-source and the build tools.
HA_SAN_CONTAINER_VARIANT=kbuild scripts/build-container-image.sh || exit 1
# pacemaker runs on Debian 13 here (Heartbeat's scenarios cover Debian 12); its image has the other engine.
HA_SAN_CONTAINER_RELEASE=trixie HA_SAN_CONTAINER_VARIANT=pacemaker scripts/build-container-image.sh || exit 1
rc=0
for dir in molecule/*/; do
  name=$(basename "$dir")
  [ -f "$dir/molecule.yml" ] || continue
  start=$(date +%s)
  echo "--- molecule scenario $name"
  release=bookworm
  [ "$name" = pacemaker ] && release=trixie
  if HA_SAN_CONTAINER_RELEASE=$release molecule test -s "$name"; then status=passed; else status=FAILED; rc=1; fi
  echo "--- molecule scenario $name (Debian $release): $status in $(( $(date +%s) - start ))s"
done
exit $rc
