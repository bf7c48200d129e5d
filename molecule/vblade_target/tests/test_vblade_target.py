"""The export script really exports a file-backed device on the floating MAC, and stop cleans up."""

import json
import time

import pytest
import testinfra

SERVER = "ha-san-mol-vbt-server"
SCRIPT = "/etc/ha.d/resource.d/ha_san-aoe-export"
FLOATING_MAC = "02:ae:00:00:00:03"

testinfra_hosts = [f"docker://{SERVER}"]


@pytest.fixture(scope="module")
def probe():
    return testinfra.get_host("docker://ha-san-mol-vbt-probe")


@pytest.fixture()
def stopped(host):
    host.run(f"{SCRIPT} r0 stop")
    yield
    host.run(f"{SCRIPT} r0 stop")


def test_script_and_settings_installed(host):
    f = host.file(SCRIPT)
    assert f.exists and f.mode == 0o755 and f.user == "root"
    conf = host.file("/etc/ha_san/exports/r0.conf").content_string
    for line in (
        "SHELF=0",
        "SLOT=3",
        "DEVICE=/var/lib/ha_san-test/e0.3.img",
        "INTERFACE=eth0",
        "MODE=macvlan",
        f"MAC={FLOATING_MAC}",
        "MACVLAN=aoe0_3",
        "ALLOWED_MACS=''",
    ):
        assert line in conf.splitlines(), line


def test_distribution_vblade_has_no_conf_for_the_device(host):
    out = host.run("grep -rl e0.3.img /etc/vblade.conf.d || true").stdout
    assert out.strip() == ""


def test_server_never_loads_the_aoe_initiator(host):
    assert (
        "install aoe /bin/false" in host.file("/etc/modprobe.d/ha_san-no-aoe-initiator.conf").content_string
    )
    assert "aoe" not in [
        line.strip() for line in host.file("/etc/modules-load.d/aoetools.conf").content_string.splitlines()
    ]
    assert host.run("systemctl is-enabled aoe-discover.service").stdout.strip() == "masked"


def test_status_is_stopped_before_start(host, stopped):
    cmd = host.run(f"{SCRIPT} r0 status")
    assert cmd.rc == 3
    assert cmd.stdout.strip() == "stopped"


def test_start_exports_on_the_floating_mac_and_stop_cleans_up(host, probe, stopped):
    # Listen on the probe while the export starts: the announcer must repeat frames from the floating MAC.
    probe.run(
        "rm -f /tmp/listen.json /tmp/listen.tmp /tmp/listen.ready; "
        "(setsid sh -c 'python3 /usr/local/bin/aoe_probe.py eth0 listen 12 /tmp/listen.ready "
        "> /tmp/listen.tmp "
        "&& mv /tmp/listen.tmp /tmp/listen.json' &)"
    )
    for _attempt in range(40):
        if probe.file("/tmp/listen.ready").exists:
            break
        time.sleep(0.25)
    start = host.run(f"{SCRIPT} r0 start")
    assert start.rc == 0, start.stderr
    assert host.run(f"{SCRIPT} r0 start").rc == 0  # starting twice is harmless

    link = host.run("cat /sys/class/net/aoe0_3/address")
    assert link.rc == 0 and link.stdout.strip() == FLOATING_MAC
    status = host.run(f"{SCRIPT} r0 status")
    assert status.rc == 0 and status.stdout.strip() == "running"
    assert host.run("pgrep -c -x vblade").stdout.strip() == "1"
    args = host.run("tr '\\0' ' ' < /proc/$(pgrep -x vblade)/cmdline").stdout
    assert args.strip() == "vblade -d -s 0 3 aoe0_3 /var/lib/ha_san-test/e0.3.img"

    query = probe.run("python3 /usr/local/bin/aoe_probe.py eth0 query 0 3 2")
    answers = json.loads(query.stdout)
    assert answers, "no AoE answer to Query Config for e0.3"
    assert {a["src"] for a in answers} == {FLOATING_MAC}
    assert all(a["shelf"] == 0 and a["slot"] == 3 for a in answers)

    for _attempt in range(40):  # the listener ends 12 s after it started; allow for a slow machine
        if probe.file("/tmp/listen.json").exists:
            break
        time.sleep(0.5)
    heard = json.loads(probe.run("cat /tmp/listen.json").stdout or "[]")
    announcements = [h for h in heard if h["type"] == "0x88b5" and h["src"] == FLOATING_MAC]
    assert len(announcements) >= 3, heard

    stop = host.run(f"{SCRIPT} r0 stop")
    assert stop.rc == 0, stop.stderr
    assert host.run("ip link show dev aoe0_3").rc != 0, "macvlan left behind"
    assert host.run("pgrep -x vblade").rc != 0, "vblade left running"
    after = host.run(f"{SCRIPT} r0 status")
    assert after.rc == 3 and after.stdout.strip() == "stopped"
    assert host.run(f"{SCRIPT} r0 stop").rc == 0  # stopping twice is harmless
    silent = probe.run("python3 /usr/local/bin/aoe_probe.py eth0 query 0 3 1")
    assert json.loads(silent.stdout) == []


def test_start_fails_without_the_device_and_leaves_nothing(host, stopped):
    host.run("mv /var/lib/ha_san-test/e0.3.img /var/lib/ha_san-test/away.img")
    try:
        cmd = host.run(f"{SCRIPT} r0 start")
        assert cmd.rc == 1
        assert host.run("ip link show dev aoe0_3").rc != 0
    finally:
        host.run("mv /var/lib/ha_san-test/away.img /var/lib/ha_san-test/e0.3.img")


def test_unknown_action_is_an_error(host):
    assert host.run(f"{SCRIPT} r0 bogus").rc == 2


def test_macvlan_driver_is_loaded_at_boot(host):
    f = host.file("/etc/modules-load.d/ha_san-macvlan.conf")
    assert f.exists
    assert f.mode == 0o644
    lines = [line for line in f.content_string.splitlines() if line and not line.startswith("#")]
    assert lines == ["macvlan"]
