#!/usr/bin/env bash
# Runs one test tier and prints how long it took, pass or fail: `tier.sh NAME CMD...`.
set -uo pipefail
name=$1; shift
start=$(date +%s)
printf '\n===== tier %s: start %s =====\n' "$name" "$(date -u +%H:%M:%S)"
"$@"; rc=$?
secs=$(( $(date +%s) - start ))
status=passed; [ "$rc" -eq 0 ] || status="FAILED (rc=$rc)"
printf '===== tier %s: %s in %dm%02ds =====\n' "$name" "$status" $((secs / 60)) $((secs % 60))
echo "$name $status ${secs}s" >> "${HA_SAN_TIER_LOG:-/dev/null}"
exit "$rc"
