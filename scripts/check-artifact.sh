#!/usr/bin/env bash
# The collection as a user gets it: build the tarball, install it offline into an empty collections path,
# and check it from there. Fails when the build warns, when the tarball holds development files (the lab,
# tests, molecule, scripts, the checkout's config, a symlink), or when a role's or module's documentation or a
# shipped playbook's syntax does not load from the installed copy alone.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${VENV:-$here/.venv}/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/ha_san-artifact.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/dist" "$work/collections"

# Nothing from the checkout may answer for the installed copy: no ansible.cfg (its collections_path and
# roles_path point into the checkout), no roles path, and only the empty directory as collections path; the
# venv's bundled collections (site-packages) stay visible for the dependencies.
printf '[defaults]\n' > "$work/ansible.cfg"
unset ANSIBLE_ROLES_PATH ANSIBLE_COLLECTIONS_PATHS ANSIBLE_INVENTORY
export ANSIBLE_CONFIG=$work/ansible.cfg ANSIBLE_COLLECTIONS_PATH=$work/collections ANSIBLE_NOCOLOR=1
export PYTHONWARNINGS=ignore # the venv's cryptography warns on import; Ansible's own warnings still show

fail=0
bad() { echo "FAIL: $*"; fail=1; }

# quiet LABEL CMD...: run CMD; show its output only when it fails or warns.
quiet() {
  local label=$1 out
  shift
  if ! out=$("$@" 2>&1); then
    bad "$label"
    echo "$out"
  elif grep -q '\[WARNING\]\|\[DEPRECATION WARNING\]' <<<"$out"; then
    bad "$label warned"
    echo "$out"
  fi
}

out=$(cd "$here" && "$bin/ansible-galaxy" collection build --output-path "$work/dist" 2>&1) || {
  echo "$out"
  exit 1
}
if grep -q '\[WARNING\]' <<<"$out"; then bad "ansible-galaxy collection build warned"; echo "$out"; fi
tarball=$(ls "$work"/dist/*.tar.gz)

listing=$(tar -tvzf "$tarball")
names=$(tar -tzf "$tarball" | sed 's#^\./##; s#/$##')
# The example inventory ships (users copy it); the lab's generated hosts.yml carries a key path and ports.
forbidden=$(grep -E '^(lab|molecule|tests|scripts|drill-reports|inventories/lab|\.venv|\.collections|\.ci|\.cache|\.pytest_cache|\.ruff_cache)(/|$)|^(Makefile|ansible\.cfg|site\.yml|pyproject\.toml|requirements\.txt|\.ansible-lint|\.yamllint|\.gitignore|\.tiers\.log)$|(^|/)__pycache__(/|$)|\.pyc$|\.tar\.gz$|(^|/)hosts\.yml$' <<<"$names" |
  grep -v '^inventories/example/hosts\.yml$' || true)
[[ -z $forbidden ]] || bad "the tarball holds $(wc -l <<<"$forbidden") development files, among them:"$'\n'"$(head -20 <<<"$forbidden")"
links=$(grep '^l' <<<"$listing" || true)
[[ -z $links ]] || bad "the tarball holds symlinks:"$'\n'"$links"
if ! grep -qx 'LICENSE' <<<"$names"; then bad "the tarball holds no LICENSE"; fi

files=$(grep -c '^-' <<<"$listing")
size=$(stat -c %s "$tarball")
printf 'artifact: %s, %d bytes (%d KiB), %d files\n' "$(basename "$tarball")" "$size" $((size / 1024)) "$files"

quiet "install $(basename "$tarball")" \
  "$bin/ansible-galaxy" collection install --offline -p "$work/collections" "$tarball"
installed=$work/collections/ansible_collections/ha_san/aoe
[[ -d $installed ]] || { bad "nothing installed at $installed"; exit 1; }

cd "$work"
n=0
for role in "$installed"/roles/*/; do
  role=$(basename "$role")
  quiet "ansible-doc -t role ha_san.aoe.$role" "$bin/ansible-doc" -t role "ha_san.aoe.$role"
  n=$((n + 1))
done
for module in "$installed"/plugins/modules/*.py; do
  module=$(basename "$module" .py)
  quiet "ansible-doc ha_san.aoe.$module" "$bin/ansible-doc" "ha_san.aoe.$module"
  n=$((n + 1))
done
inventory=$installed/inventories/example
[[ -d $inventory ]] || inventory=localhost,
for playbook in "$installed"/playbooks/*.yml; do
  playbook=$(basename "$playbook" .yml)
  quiet "ansible-playbook --syntax-check ha_san.aoe.$playbook" \
    "$bin/ansible-playbook" --syntax-check -i "$inventory" "ha_san.aoe.$playbook"
  n=$((n + 1))
done
echo "artifact: $n checks from the installed copy (roles' and modules' docs, playbooks' syntax)"
exit $fail
