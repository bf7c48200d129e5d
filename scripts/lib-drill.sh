# shellcheck shell=bash
# Sourced by the drill scripts (drill-matrix.sh, drill-scorn-compare.sh, demo.sh): the checkout's tools, and one
# drill run with a report of its own.

# drill_env: run from the repository root with its virtualenv and ansible.cfg.
drill_env() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
  export PATH="${VENV:-$PWD/.venv}/bin:$PATH" ANSIBLE_CONFIG=$PWD/ansible.cfg
}

# run_drill FAULT RUN [ansible-playbook args...]: one failover drill, its report in drill-reports/RUN/.
run_drill() {
  local fault=$1 run=$2
  shift 2
  ansible-playbook playbooks/failover_drill.yml -i inventories/lab -e drill_fault="$fault" -e drill_run="$run" "$@"
}

# summarise OUT REPORT...: the summary table of these reports, printed (by ha_san_report.py itself) and written to
# OUT; non-zero when any drill lost a write, left a split brain unresolved or exported twice.
summarise() {
  local out=$1
  shift
  python3 playbooks/files/drill/ha_san_report.py summary "$@" --out "$out" --check
}
