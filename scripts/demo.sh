#!/usr/bin/env bash
# `make demo`: the whole SAN in the lab from a booted lab: site.yml, then one crash drill (power loss of the
# primary while the client writes), then its report as a table. Exits non-zero when the drill failed or lost
# a write.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export PATH="${VENV:-$PWD/.venv}/bin:$PATH" ANSIBLE_CONFIG=$PWD/ansible.cfg
run=$(date -u +%Y%m%dT%H%M%SZ)-crash-demo
ansible-playbook site.yml -i inventories/lab || exit 1
ansible-playbook playbooks/failover_drill.yml -i inventories/lab -e drill_fault=crash -e drill_run="$run" || exit 1
python3 playbooks/files/drill/ha_san_report.py summary "drill-reports/$run/report.json" --check || exit 1
echo "report: drill-reports/$run/report.json, plot: drill-reports/$run/latency.png"
