# shellcheck shell=sh
# Managed by ha_san.aoe.heartbeat. Sourced by the role's harc, req_resource and ResourceManager: what the
# package's ResourceManager does to name, find and run a haresources resource, with shell builtins only.
# Why: these run while the client waits for a takeover, where each fork costs tens of milliseconds on a
# slow server, and the package's way (sourcing shellfuncs, a sed per argument) costs seconds.

# ha_san_say TAG MESSAGE: ha_log's syslog line, in the background, off the takeover's path.
ha_san_say() {
  case "${HA_LOGFACILITY:-none}" in
    none) echo "$2" >&2 ;;
    *) logger -t "$1" -p "$HA_LOGFACILITY.info" -- "$2" </dev/null >/dev/null 2>&1 & ;;
  esac
}

# ha_san_lower WORD: WORD in lower case; forks only when there is something to lower.
ha_san_lower() {
  case "$1" in
    *[A-Z]*) printf '%s\n' "$1" | tr '[:upper:]' '[:lower:]' ;;
    *) printf '%s\n' "$1" ;;
  esac
}

# ha_san_resource RESOURCE: sets ha_san_script (its path; empty and false when there is none) and
# ha_san_args (" ARG ARG") as ResourceManager reads a resource: SCRIPT::ARG::ARG in HA_RESOURCEDIR or
# /etc/init.d, a bare IPv4 address meaning IPaddr::ADDRESS.
ha_san_resource() {
  ha_san_script='' ha_san_args=''
  __res=$1
  case "$__res" in [0-9]*.[0-9]*.[0-9]*.[0-9]*) __res="IPaddr::$__res" ;; esac
  __name=${__res%%::*}
  __rest=${__res#"$__name"}
  while [ -n "$__rest" ]; do
    __rest=${__rest#::}
    __arg=${__rest%%::*}
    ha_san_args="$ha_san_args $__arg"
    __rest=${__rest#"$__arg"}
  done
  __base=${HA_DIR:-/etc/ha.d}  # Heartbeat passes HA_DIR=/etc/ha.d/
  for __dir in "${HA_RESOURCEDIR:-${__base%/}/resource.d}" /etc/init.d; do
    if [ -f "$__dir/$__name" ] && [ -x "$__dir/$__name" ]; then
      ha_san_script=$__dir/$__name
      return 0
    fi
  done
  return 1
}

# ha_san_runs: true when the status call of the resource ha_san_resource found says it runs here, read as
# ResourceManager's we_own_resource reads it.
ha_san_runs() {
  # shellcheck disable=SC2086 # ResourceManager splits the arguments the same way
  case $("$ha_san_script" $ha_san_args status 2>/dev/null) in
    *[Nn][Oo][Tt]\ *[Rr]unning*) return 1 ;;
    *[Rr]unning* | *OK*) return 0 ;;
    *) return 1 ;;
  esac
}

# ha_san_run ACTION: the resource ha_san_resource found, started or stopped; its exit code.
ha_san_run() {
  # shellcheck disable=SC2086 # ResourceManager splits the arguments the same way
  "$ha_san_script" $ha_san_args "$1"
}
