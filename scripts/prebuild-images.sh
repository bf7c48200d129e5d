#!/usr/bin/env bash
# Builds the images the molecule and lab tiers need, in the background of the fast tiers: `make test` starts it
# first and waits for it last. On a new machine the builds (mostly download and dpkg) take 6-8 minutes
# that would otherwise run in series inside the molecule and lab tiers. Each build holds its own cache lock,
# so a tier that gets there first waits for the build instead of starting another; a build that fails here is
# only reported, because the tier that needs the image runs the build again and fails there, with its log.
# `prebuild-images.sh LOGDIR`: each build's output goes to LOGDIR/prebuild-NAME.log.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
logs=${1:-tests/output}
mkdir -p "$logs"

timed() {
  local name=$1 start rc; shift
  start=$(date +%s)
  "$@" >"$logs/prebuild-$name.log" 2>&1; rc=$?
  echo "prebuild: $name $([ "$rc" -eq 0 ] && echo built || echo "FAILED (rc=$rc, see $logs/prebuild-$name.log)") in $(( $(date +%s) - start ))s"
}

# The lab image needs no container engine; the container images need one to import into.
timed lab-image "${PYTHON:-python3}" -m lab build &
{
  if scripts/ensure-dockerd.sh >"$logs/prebuild-dockerd.log" 2>&1; then
    timed molecule-image scripts/build-container-image.sh
    timed molecule-pacemaker-image env HA_SAN_CONTAINER_RELEASE=trixie HA_SAN_CONTAINER_VARIANT=pacemaker \
      scripts/build-container-image.sh
  else
    echo "prebuild: no container engine (see $logs/prebuild-dockerd.log); the molecule tier builds its images itself"
  fi
} &
wait
