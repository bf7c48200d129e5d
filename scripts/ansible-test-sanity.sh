#!/usr/bin/env bash
# Runs `ansible-test sanity` on this collection, offline-safe.
# ansible-test wants the collection at .../ansible_collections/ha_san/aoe, and bootstraps pip in
# each test venv with a script downloaded from a host our CI cannot reach; the stand-in written
# below installs pip from the interpreter's own ensurepip instead (see shared/lab-notes.md).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$here/.venv}
work=${HA_SAN_SANITY_DIR:-${TMPDIR:-/tmp}/ha_san-sanity}
dest=$work/ansible_collections/ha_san/aoe

standin=$HOME/.ansible/test/cache/get_pip_24_2.py
mkdir -p "$(dirname "$standin")"
cat > "$standin" <<'PY'
# Stand-in for get-pip.py (ha_san.aoe scripts/ansible-test-sanity.sh): ensurepip in a child
# process, because in-process it drops the PIP_* settings pip needs to reach the index.
import os
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade"], check=True)
os.execv(sys.executable, [sys.executable, "-m", "pip", "install", "--upgrade", *args])
PY

# Only the files git would ship: no venv, no lab state, no tests/output from an earlier run, and not the
# checkout's .collections self-link (inside the copy it would be a directory loop).
rm -rf "$dest"
mkdir -p "$dest"
(cd "$here" && git ls-files -co --exclude-standard -z | grep -zv '^\.collections/' | tar --null -T - -cf -) |
  tar -C "$dest" -xf -
cd "$dest"
git init -q . && git add -A >/dev/null
# shellcheck disable=SC1091
. "$venv/bin/activate"
ansible-test sanity --python 3.11 --requirements --color no "$@"
