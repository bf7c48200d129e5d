#!/usr/bin/env bash
# `make drill`: converges the lab, runs each fault DRILL_RUNS times, then the summary table
# (drill-reports/summary.md); exits non-zero when any drill lost a write, left a split brain
# unresolved or exported twice. DRILL_FAULTS and DRILL_RUNS choose the matrix.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export PATH="${VENV:-$PWD/.venv}/bin:$PATH" ANSIBLE_CONFIG=$PWD/ansible.cfg
faults=${DRILL_FAULTS:-crash partition san_unplug switchover}
runs=${DRILL_RUNS:-10}
ansible-playbook site.yml -i inventories/lab || exit 1
rc=0
for fault in $faults; do
  for n in $(seq 1 "$runs"); do
    echo "--- drill $fault, run $n of $runs"
    ansible-playbook playbooks/failover_drill.yml -i inventories/lab -e drill_fault="$fault" || rc=1
  done
done
python3 playbooks/files/drill/ha_san_report.py summary drill-reports/*/report.json \
  --out drill-reports/summary.md --check || rc=1
cat drill-reports/summary.md
exit "$rc"
