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
# Scenarios run in lanes side by side (HA_SAN_MOLECULE_LANES, default 2: the controller's Ansible is most of a
# scenario's time, and a scenario waits on its containers much of the rest). Each scenario's output goes to its own
# log, printed whole when it ends; the slowest scenarios start first so the lanes end together.
lanes=${HA_SAN_MOLECULE_LANES:-2}
logs=${HA_SAN_MOLECULE_LOGS:-tests/output/molecule}
mkdir -p "$logs"
order=(heartbeat pacemaker vblade_target drbd aoe_client)
queue=()
for name in "${order[@]}"; do images "$name" && queue+=("$name"); done
for name in "${scenarios[@]}"; do printf ' %s ' "${queue[@]}" | grep -q " $name " || queue+=("$name"); done

run_scenario() {
  local name=$1 release=bookworm start status
  [ "$name" = pacemaker ] && release=trixie
  start=$(date +%s)
  if HA_SAN_CONTAINER_RELEASE=$release molecule test -s "$name" >"$logs/$name.log" 2>&1; then
    status=passed
  else
    status=FAILED
  fi
  {
    flock 9
    echo "--- molecule scenario $name (Debian $release), log $logs/$name.log"
    cat "$logs/$name.log"
    echo "--- molecule scenario $name (Debian $release): $status in $(( $(date +%s) - start ))s"
  } 9>"$logs/.print.lock"
  [ "$status" = passed ]
}

# Each lane takes the next scenario of the queue when its last one ends.
export -f run_scenario
export logs
# shellcheck disable=SC2016 # $1 is the inner shell's
printf '%s\n' "${queue[@]}" | xargs -P "$lanes" -I{} bash -c 'run_scenario "$1"' _ {} || exit 1
