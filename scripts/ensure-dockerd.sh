#!/usr/bin/env bash
# Starts dockerd when no Docker engine answers (CI machines have the client only).
set -euo pipefail
docker info >/dev/null 2>&1 && { echo "dockerd: already running"; exit 0; }
command -v dockerd >/dev/null || { echo "dockerd: not installed; run scripts/host-deps.sh" >&2; exit 1; }
log=${TMPDIR:-/tmp}/ha_san-dockerd.log
echo "dockerd: starting (log: $log)"
nohup dockerd >"$log" 2>&1 &
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && { echo "dockerd: ready"; exit 0; }
  sleep 1
done
echo "dockerd: did not answer within 60 s; see $log" >&2
tail -20 "$log" >&2
exit 1
