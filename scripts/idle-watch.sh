#!/usr/bin/env bash
# `make idle-watch`: leaves the converged lab alone for IDLE_MINUTES (default 30) and then counts, on both
# servers, what a false failover leaves in their logs: a node declared dead, a STONITH, a takeover or a
# release, and the late heartbeats before them (the margin the timings leave). Under Pacemaker (the lab's
# engine, from its inventory) the same from Corosync's and Pacemaker's lines: late tokens and knet links down
# (the margin), members lost, fencing requests, resources recovered, moved or restarted, failed monitors.
# Exits non-zero when any node was declared dead or anything moved, or when the export is not where it was
# at the start.
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
engine=$(sed -n 's/^ *ha_san_cluster_engine: *"\{0,1\}\([a-z]*\)"\{0,1\}$/\1/p' inventories/lab/hosts.yml)
count() { grep -cE "$1" <<<"$log"; }
if [ "${engine:-heartbeat}" = pacemaker ]; then
  printf '| server | late tokens | knet links down | members lost | fencing | recoveries, moves, restarts | failed monitors |\n'
  printf '|---|---:|---:|---:|---:|---:|---:|\n'
else
  printf '| server | late heartbeats | max late interval (ms) | declared dead | STONITH | takeovers | releases |\n'
  printf '|---|---:|---:|---:|---:|---:|---:|\n'
fi
for n in $servers; do
  log=$(python3 -m lab ssh "$n" -- "journalctl --no-pager -q --since '$since UTC'")
  if [ "${engine:-heartbeat}" = pacemaker ]; then
    late=$(count 'Token has not been received|A processor failed')
    links=$(count 'link: [0-9]+ is down')
    dead=$(count 'Members left|state is now lost')
    fence=$(count 'Requesting fencing|Requesting peer fencing')
    moved=$(count '(\* |Actions: )(Move|Recover|Restart|Promote|Demote) ')
    failed=$(count 'Result of monitor operation .*(not running|Timed Out|[Ee]rror)')
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$late" "$links" "$dead" "$fence" "$moved" "$failed"
    [ "$dead" -eq 0 ] && [ "$fence" -eq 0 ] && [ "$moved" -eq 0 ] && [ "$failed" -eq 0 ] || rc=1
    continue
  fi
  late=$(count 'Late heartbeat')
  max=$(grep -o 'Late heartbeat: Node [^ ]*: interval [0-9]*' <<<"$log" | awk '{print $NF}' | sort -n | tail -1)
  dead=$(count 'node [^ ]+: is dead')
  fence=$(count 'Resetting node')
  take=$(count 'Taking over resource group|Acquiring resource group')
  give=$(count 'Releasing resource group|Giving up all HA resources')
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$late" "${max:--}" "$dead" "$fence" "$take" "$give"
  [ "$dead" -eq 0 ] && [ "$fence" -eq 0 ] && [ "$take" -eq 0 ] && [ "$give" -eq 0 ] || rc=1
done
after=$(holder | tr '\n' ' ')
echo "export on: ${after:-nobody} (was ${before:-nobody})"
[ "$after" = "$before" ] || rc=1
exit "$rc"
