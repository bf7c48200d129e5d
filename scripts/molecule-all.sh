#!/usr/bin/env bash
# Runs molecule scenarios (`molecule test`), after building the local container images they use (nothing is
# pulled: no registry is reachable). Fails if any scenario fails.
#   molecule-all.sh            every scenario but aoe_client_kernel (make molecule, CI)
#   molecule-all.sh NAME...    these scenarios (make molecule-kernel: aoe_client_kernel)
# aoe_client_kernel builds a kernel (make bindeb-pkg) and the patched driver against it: the largest item of CI's
# budget, for a path off by default that no other role touches, so CI leaves it to `make molecule-kernel`.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export PATH="${VENV:-$PWD/.venv}/bin:$PATH"
python3 scripts/check-test-subnets.py || exit 1
if [ $# -gt 0 ]; then
  scenarios=("$@")
else
  scenarios=()
  for dir in molecule/*/; do
    [ "$(basename "$dir")" = aoe_client_kernel ] || scenarios+=("$(basename "$dir")")
  done
fi
for name in "${scenarios[@]}"; do
  [ -f "molecule/$name/molecule.yml" ] || { echo "no molecule scenario $name (molecule/$name/molecule.yml)" >&2; exit 2; }
done
images() { printf ' %s ' "${scenarios[@]}" | grep -q " $1 "; }
scripts/build-container-image.sh || exit 1
# aoe_client_kernel builds a kernel: its image adds linux-source and the build tools.
if images aoe_client_kernel; then HA_SAN_CONTAINER_VARIANT=kbuild scripts/build-container-image.sh || exit 1; fi
# pacemaker runs on Debian 13 here (Heartbeat's scenarios cover Debian 12); its image has the other engine.
if images pacemaker; then
  HA_SAN_CONTAINER_RELEASE=trixie HA_SAN_CONTAINER_VARIANT=pacemaker scripts/build-container-image.sh || exit 1
fi
rc=0
for name in "${scenarios[@]}"; do
  start=$(date +%s)
  echo "--- molecule scenario $name"
  release=bookworm
  [ "$name" = pacemaker ] && release=trixie
  if HA_SAN_CONTAINER_RELEASE=$release molecule test -s "$name"; then status=passed; else status=FAILED; rc=1; fi
  echo "--- molecule scenario $name (Debian $release): $status in $(( $(date +%s) - start ))s"
done
exit $rc
