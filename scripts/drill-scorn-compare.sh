#!/usr/bin/env bash
# `make drill-scorn`: the aoe patch's effect on a failover, measured. With vblade_target's plain-NIC mode the
# survivor exports from its own MAC, so after a crash the client must leave the dead server's MAC for the new
# one; the in-kernel driver waits 10 s for that, the patched one waits aoe_scorn_secs. This converges the lab
# in NIC mode, runs crash drills alternating aoe_scorn_secs 10 (the kernel's value) and 3 (set at run time in
# /sys/module/aoe/parameters on the client), prints one summary per value, and converges back to the lab's
# own settings (the floating MAC; the export moves to it at the next takeover). SCORN_RUNS: drills per value.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export PATH="${VENV:-$PWD/.venv}/bin:$PATH" ANSIBLE_CONFIG=$PWD/ansible.cfg
runs=${SCORN_RUNS:-2}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
ansible-playbook site.yml -i inventories/lab -e vblade_target_mode=nic || exit 1
rc=0
for n in $(seq 1 "$runs"); do
  for secs in 10 3; do
    echo "--- crash drill, aoe_scorn_secs=$secs, run $n of $runs"
    ansible clients -i inventories/lab -m ansible.builtin.shell \
      -a "echo $secs > /sys/module/aoe/parameters/aoe_scorn_secs && cat /sys/module/aoe/parameters/aoe_scorn_secs" \
      || exit 1
    ansible-playbook playbooks/failover_drill.yml -i inventories/lab \
      -e drill_fault=crash -e drill_run="$stamp-scorn$secs-$n" || rc=1
  done
done
for secs in 10 3; do
  echo "--- aoe_scorn_secs=$secs (vblade_target_mode=nic)"
  python3 playbooks/files/drill/ha_san_report.py summary drill-reports/"$stamp"-scorn"$secs"-*/report.json \
    --out drill-reports/"$stamp"-scorn"$secs".md --check || rc=1
  cat drill-reports/"$stamp"-scorn"$secs".md
done
ansible-playbook site.yml -i inventories/lab || rc=1
exit "$rc"
