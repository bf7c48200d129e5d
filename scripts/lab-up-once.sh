#!/usr/bin/env bash
# Boots the lab unless one is already running (make demo may be run again).
set -euo pipefail
cd "$(dirname "$0")/.."
if python3 -m lab status --json 2>/dev/null | python3 -c '
import json, sys
nodes = json.load(sys.stdin).get("nodes", {})
sys.exit(0 if nodes and any(n.get("running") for n in nodes.values()) else 1)
'; then
  echo "lab: already running; reusing it (python3 -m lab down to start afresh)"
else
  python3 -m lab up
fi
