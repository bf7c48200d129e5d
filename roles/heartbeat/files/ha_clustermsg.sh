# shellcheck shell=sh
# Heartbeat's own ha_clustermsg sends ">>>", the message and "<<<" in separate writes. At a takeover
# mach_down and req_resource send at the same moment: their lines interleave on Heartbeat's FIFO,
# Heartbeat drops the broken message ("NV failure (msgfromsteam)"), and when that was req_resource's
# ip-request-resp the node never starts the group it owns (seen in the lab: the survivor of a partition
# fenced its peer and then exported nothing). A write of up to PIPE_BUF bytes to a FIFO is atomic, so
# build the whole message first and write it once.
ha_clustermsg() {
	__ha_san_msg=$(cat -)
	printf '>>>\n%s\n<<<\n' "$__ha_san_msg" >> "$HA_FIFO"
}
