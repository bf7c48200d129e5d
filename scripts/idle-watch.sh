#!/usr/bin/env bash
# `make idle-watch`: leaves the converged lab alone for IDLE_MINUTES (default 30) and then counts, on both
# servers, what a false failover leaves in their logs: a node declared dead, a STONITH, a takeover or a
# release, and the late heartbeats before them (the margin the timings leave). Exits non-zero when any
# node was declared dead or any group moved, or when the export is not where it was at the start.
set -uo pipefail
# shellcheck source=scripts/lib-drill.sh
. "$(dirname "$0")/lib-drill.sh"
drill_env
minutes=${IDLE_MINUTES:-30}
servers="primary secondary"
holder() {
  local n
  for n in $servers; do
    python3 -m lab ssh "$n" -- /etc/ha.d/resource.d/ha_san-aoe-export r0 status >/dev/null 2>&1 && echo "$n"
  done
}
before=$(holder | tr '\n' ' ')
since=$(date -u '+%Y-%m-%d %H:%M:%S')
echo "idle watch: $minutes min from $since UTC; export on: ${before:-nobody}"
sleep $((minutes * 60))
rc=0
printf '| server | late heartbeats | max late interval (ms) | declared dead | STONITH | takeovers | releases |\n'
printf '|---|---:|---:|---:|---:|---:|---:|\n'
for n in $servers; do
  log=$(python3 -m lab ssh "$n" -- "journalctl --no-pager -q --since '$since UTC'")
  late=$(grep -c 'Late heartbeat' <<<"$log")
  max=$(grep -o 'Late heartbeat: Node [^ ]*: interval [0-9]*' <<<"$log" | awk '{print $NF}' | sort -n | tail -1)
  dead=$(grep -cE 'node [^ ]+: is dead' <<<"$log")
  fence=$(grep -c 'Resetting node' <<<"$log")
  take=$(grep -cE 'Taking over resource group|Acquiring resource group' <<<"$log")
  give=$(grep -cE 'Releasing resource group|Giving up all HA resources' <<<"$log")
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$late" "${max:--}" "$dead" "$fence" "$take" "$give"
  [ "$dead" -eq 0 ] && [ "$fence" -eq 0 ] && [ "$take" -eq 0 ] && [ "$give" -eq 0 ] || rc=1
done
after=$(holder | tr '\n' ' ')
echo "export on: ${after:-nobody} (was ${before:-nobody})"
[ "$after" = "$before" ] || rc=1
exit "$rc"
