#!/usr/bin/env bash
# `make drill-scorn`: the aoe patch's effect on a failover, measured. With vblade_target's plain-NIC mode the
# survivor exports from its own MAC, so the client must leave the old server's MAC for the new one; the
# in-kernel driver does so 10 s after the old MAC last answered, the patched one after aoe_scorn_secs. This
# converges the lab in NIC mode, runs each of SCORN_FAULTS (default: switchover crash) SCORN_RUNS times (default
# 2) per value of aoe_scorn_secs, 10 (the kernel's value) and 3 (set at run time in
# /sys/module/aoe/parameters on the client), prints one summary per value, and converges back to the lab's own
# settings (the floating MAC; the export moves to it at the next takeover).
# Each drill moves the export to the other server, and the two servers take over at different speeds (the
# group's owner in haresources takes Heartbeat's slower "local" path), so the order alternates 10 3, 3 10: each
# value meets both. The patch shows where the new export starts sooner than aoe_scorn_secs after the old MAC
# went silent: a planned switchover, or a crash taken over quickly.
set -uo pipefail
# shellcheck source=scripts/lib-drill.sh
. "$(dirname "$0")/lib-drill.sh"
drill_env
faults=${SCORN_FAULTS:-switchover crash}
runs=${SCORN_RUNS:-2}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
ansible-playbook site.yml -i inventories/lab -e vblade_target_mode=nic || exit 1
rc=0
for fault in $faults; do
  for n in $(seq 1 "$runs"); do
    order="10 3"
    [ $((n % 2)) -eq 0 ] && order="3 10"
    for secs in $order; do
      echo "--- $fault drill, aoe_scorn_secs=$secs, run $n of $runs"
      ansible clients -i inventories/lab -m ansible.builtin.shell \
        -a "echo $secs > /sys/module/aoe/parameters/aoe_scorn_secs && cat /sys/module/aoe/parameters/aoe_scorn_secs" \
        || exit 1
      run_drill "$fault" "$stamp-scorn$secs-$fault-$n" || rc=1
    done
  done
done
for secs in 10 3; do
  echo "--- aoe_scorn_secs=$secs (vblade_target_mode=nic)"
  summarise "drill-reports/$stamp-scorn$secs.md" drill-reports/"$stamp"-scorn"$secs"-*/report.json || rc=1
done
ansible-playbook site.yml -i inventories/lab || rc=1
exit "$rc"
