"""The drbd role's real result in a container: packages, a resource file drbdadm accepts, boot start."""

import pytest

RES = "/etc/drbd.d/r0.res"


def test_drbd_utils_installed(host):
    assert host.package("drbd-utils").is_installed


def test_resource_file_is_private_and_complete(host):
    f = host.file(RES)
    assert f.exists
    assert f.user == "root"
    # readable by Heartbeat's group: dopd outdates a peer's disk with drbdadm as hacluster:haclient
    assert f.group == "haclient"
    assert f.mode == 0o640
    text = f.content_string
    for line in (
        "protocol C;",
        "fencing resource-only;",
        "on-io-error detach;",
        'fence-peer "/usr/local/sbin/ha_san-fence-peer -t 5";',
        "after-sb-0pri discard-zero-changes;",
        "after-sb-1pri discard-secondary;",
        "after-sb-2pri disconnect;",
        "verify-alg sha256;",
        "cram-hmac-alg sha256;",
        'shared-secret "molecule-only-drbd-secret";',
        "wfc-timeout 60;",
        "on drbd1 {",
        "address 172.31.101.11:7789;",
        "on drbd2 {",
        "address 172.31.101.12:7789;",
    ):
        assert line in text, line


def test_drbdadm_accepts_the_configuration(host):
    cmd = host.run("/lib/drbd/drbdadm-84 dump r0")
    assert cmd.rc == 0, cmd.stderr
    assert "protocol" in cmd.stdout and "C" in cmd.stdout


def test_drbd_service_enabled_for_boot(host):
    assert host.service("drbd").is_enabled


@pytest.mark.parametrize("marker", ["/var/lib/ha_san/drbd/r0.first-primary-done"])
def test_no_first_primary_marker_without_kernel_module(host, marker):
    # No DRBD module in a container: the role must not pretend it promoted anything.
    assert not host.file("/proc/drbd").exists
    assert not host.file(marker).exists


def test_udev_rule_names_the_devices_without_drbdadm(host):
    f = host.file("/etc/udev/rules.d/65-drbd.rules")
    assert f.exists
    assert f.mode == 0o644
    rules = [line for line in f.content_string.splitlines() if line and not line.startswith("#")]
    assert 'KERNEL=="drbd0", SYMLINK+="drbd/by-res/r0/0", SYMLINK+="drbd/by-disk/vdb"' in rules
    assert not any("drbdadm" in line or "IMPORT" in line or "RUN" in line for line in rules), rules


def test_usermode_helper_knows_each_resources_peer(host):
    helper = host.file("/usr/local/sbin/ha_san-drbd-helper")
    assert helper.exists and helper.user == "root" and helper.mode == 0o755
    peer = {"drbd1": "drbd2", "drbd2": "drbd1"}[host.check_output("uname -n")]
    peers = host.file("/etc/ha_san/drbd-fence-peers")
    assert peers.mode == 0o644
    assert [line for line in peers.content_string.splitlines() if not line.startswith("#")] == [f"r0 {peer}"]
    assert (
        "options drbd usermode_helper=/usr/local/sbin/ha_san-drbd-helper"
        in host.file("/etc/modprobe.d/ha_san-drbd.conf").content_string
    )


def test_usermode_helper_hands_other_calls_to_drbdadm(host):
    cmd = host.run("/usr/local/sbin/ha_san-drbd-helper --version")
    assert cmd.rc == 0, cmd.stderr
    assert "DRBDADM_VERSION" in cmd.stdout


def test_heartbeats_user_can_read_the_configuration(host):
    # dopd runs `drbdadm outdate` as hacluster; with no Heartbeat here, a member of its group stands in
    host.run("id -u molecule-hacluster >/dev/null 2>&1 || useradd --system -g haclient molecule-hacluster")
    cmd = host.run("cd / && runuser -u molecule-hacluster -- /lib/drbd/drbdadm-84 dump r0")
    assert cmd.rc == 0, cmd.stderr
