#!/usr/bin/env bash
# `make drill`: converges the lab, runs each fault DRILL_RUNS times, then the summary table of this matrix
# (drill-reports/summary.md, and drill-reports/STAMP-summary.md); exits non-zero when any drill lost a write,
# left a split brain unresolved or exported twice. DRILL_FAULTS and DRILL_RUNS choose the matrix.
set -uo pipefail
# shellcheck source=scripts/lib-drill.sh
. "$(dirname "$0")/lib-drill.sh"
drill_env
# Default: every fault of playbooks/files/drill/faults.json marked for the matrix, 3 runs each.
faults=${DRILL_FAULTS:-$(python3 -c 'import json, sys
print(" ".join(k for k, v in json.load(open(sys.argv[1])).items() if not k.startswith("_") and v["matrix"]))' \
  playbooks/files/drill/faults.json)}
runs=${DRILL_RUNS:-3}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
ansible-playbook site.yml -i inventories/lab || exit 1
rc=0
for fault in $faults; do
  for n in $(seq 1 "$runs"); do
    echo "--- drill $fault, run $n of $runs"
    run_drill "$fault" "$stamp-matrix-$fault-$n" || rc=1
  done
done
summarise "drill-reports/$stamp-summary.md" drill-reports/"$stamp"-matrix-*/report.json || rc=1
cp "drill-reports/$stamp-summary.md" drill-reports/summary.md
exit "$rc"
