#!/usr/bin/env bash
# `make demo`: the whole SAN in the lab from a booted lab: site.yml, then one crash drill (power loss of the
# primary while the client writes), then its report as a table. Exits non-zero when the drill failed or lost
# a write.
set -uo pipefail
# shellcheck source=scripts/lib-drill.sh
. "$(dirname "$0")/lib-drill.sh"
drill_env
run=$(date -u +%Y%m%dT%H%M%SZ)-crash-demo
ansible-playbook site.yml -i inventories/lab || exit 1
run_drill crash "$run" || exit 1
summarise "drill-reports/$run/summary.md" "drill-reports/$run/report.json" || exit 1
echo "report: drill-reports/$run/report.json, plot: drill-reports/$run/latency.png"
