"""roles/pacemaker/files/ha_san-pcmk-fence-peer: DRBD's fence-peer handler under Pacemaker answers
as drbd-utils' crm-fence-peer.sh does (exit codes 1, 4, 5, 7, the same drbd-fence-by-handler constraint),
reads the peer's node_state as Pacemaker before and after 2.1.7 writes it, and runs one cibadmin query
and one create on the takeover after a crash."""

from __future__ import annotations

import re
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import NamedTuple

import jinja2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "roles" / "pacemaker" / "files" / "ha_san-pcmk-fence-peer"
NODE, PEER = "node1", "node2"
CID = "drbd-fence-by-handler-r0-drbd-r0-clone"

# cibadmin: --query prints cib.N (N = the number of queries so far; the last one once they run out);
# --create and --delete record their arguments; --create fails when create.rc holds a number, and may
# rewrite proc_drbd.
FAKE_CIBADMIN = """#!/bin/sh
d="{d}"
echo "$*" >> "$d/cibadmin.calls"
case "$1" in
  --query)
    [ -e "$d/query.fail" ] && exit 105
    n=$(($(cat "$d/queries" 2>/dev/null || echo 0) + 1))
    echo "$n" > "$d/queries"
    f="$d/cib.$n"
    while [ ! -e "$f" ] && [ "$n" -gt 1 ]; do n=$((n - 1)); f="$d/cib.$n"; done
    cat "$f"
    ;;
  --create)
    [ -e "$d/proc_drbd.after_create" ] && cp "$d/proc_drbd.after_create" "$d/proc_drbd"
    [ -e "$d/create.rc" ] && exit "$(cat "$d/create.rc")"
    exit 0
    ;;
esac
exit 0
"""
# crmadmin: records its arguments, prints crmadmin.out, exits crmadmin.rc (0 by default).
FAKE_CRMADMIN = """#!/bin/sh
echo "$*" >> "{d}/crmadmin.calls"
cat "{d}/crmadmin.out" 2>/dev/null
exit "$(cat "{d}/crmadmin.rc" 2>/dev/null || echo 0)"
"""
# sleep: no wait, but the clock (the handler reads /proc/uptime) moves on by the seconds asked.
FAKE_SLEEP = """#!/bin/sh
echo "$*" >> "{d}/sleep.calls"
read -r up _ < "{d}/uptime"
echo "$((${{up%%.*}} + $1)).00 0.00" > "{d}/uptime"
"""
FAKE_LOGGER = """#!/bin/sh
shift 3
echo "$*" >> "{d}/logger.lines"
"""

PROC_HEAD = "version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 0123456789ABCDEF\n"


def proc(*lines: str) -> str:
    return PROC_HEAD + "".join(f" {ln}\n    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 oos:0\n" for ln in lines)


ALONE_UPTODATE = proc("0: cs:WFConnection ro:Secondary/Unknown ds:UpToDate/DUnknown C r-----")
ALONE_CONSISTENT = proc("0: cs:WFConnection ro:Secondary/Unknown ds:Consistent/DUnknown C r-----")
CONNECTED = proc("0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----")

# node_state as Pacemaker writes it: before 2.1.7 (Debian 12's 2.1.5) and after (Debian 13's 3.0).
FENCED_OLD = (
    'in_ccm="false" crmd="offline" crm-debug-origin="send_stonith_update" join="down" expected="down"'
)
FENCED_NEW = 'in_ccm="0" crmd="0" crm-debug-origin="send_stonith_update" join="down" expected="down"'
LOST_OLD = 'in_ccm="false" crmd="offline" crm-debug-origin="peer_update" join="member" expected="member"'
LOST_NEW = 'in_ccm="0" crmd="0" crm-debug-origin="peer_update" join="member" expected="member"'
MEMBER_OLD = 'in_ccm="true" crmd="online" crm-debug-origin="peer_update" join="member" expected="member"'
MEMBER_NEW = 'in_ccm="1796572100" crmd="1796572101" join="member" expected="member"'


def cib(peer_state: str, constraint_owner: str | None = None, peer: str = PEER) -> str:
    constraint = ""
    if constraint_owner is not None:
        constraint = f"""
      <rsc_location rsc="drbd-r0-clone" id="{CID}">
        <rule role="Promoted" score="-INFINITY" id="drbd-fence-by-handler-r0-rule-drbd-r0-clone">
          <expression attribute="#uname" operation="ne" value="{constraint_owner}"
            id="drbd-fence-by-handler-r0-expr-drbd-r0-clone"/>
        </rule>
      </rsc_location>"""
    return f"""<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.9" epoch="12" num_updates="3">
  <configuration>
    <constraints>
      <rsc_location id="export-r0-first-holder" rsc="export-r0" node="{NODE}" score="1"/>{constraint}
    </constraints>
  </configuration>
  <status>
    <node_state id="1" uname="{NODE}" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="1"/>
    </node_state>
    <node_state id="2" uname="{peer}" {peer_state}>
      <lrm id="2">
        <lrm_resources/>
      </lrm>
    </node_state>
  </status>
</cib>
"""


class Outcome(NamedTuple):
    rc: int
    cibadmin: list[str]
    crmadmin: list[str]
    sleeps: int
    log: list[str]


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def d(tmp_path: Path) -> Path:
    """The handler with fake cibadmin, crmadmin, sleep and logger first in its PATH, and its settings."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in [
        ("cibadmin", FAKE_CIBADMIN),
        ("crmadmin", FAKE_CRMADMIN),
        ("sleep", FAKE_SLEEP),
        ("logger", FAKE_LOGGER),
    ]:
        f = bin_dir / name
        f.write_text(text.format(d=tmp_path))
        f.chmod(0o755)
    text = SCRIPT.read_text()
    assert "\nPATH=/usr/sbin:" in text
    (tmp_path / "handler").write_text(text.replace("\nPATH=/usr/sbin:", f"\nPATH={bin_dir}:/usr/sbin:", 1))
    (tmp_path / "fence-peer.conf").write_text(f"# managed\nnode={NODE}\npeer={PEER}\ntimeout=5\n")
    (tmp_path / "uptime").write_text("1000.42 900.00\n")
    return tmp_path


def call(d: Path, *cibs: str, drbd: str = ALONE_UPTODATE, minors: str = "0") -> Outcome:
    for n, text in enumerate(cibs, 1):
        (d / f"cib.{n}").write_text(text)
    (d / "proc_drbd").write_text(drbd)
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "DRBD_RESOURCE": "r0",
        "DRBD_MINOR": minors,
        "DRBD_PEER": PEER,
        "HA_SAN_FENCE_PEER_CONF": str(d / "fence-peer.conf"),
        "HA_SAN_PROC_DRBD": str(d / "proc_drbd"),
        "HA_SAN_UPTIME": str(d / "uptime"),
    }
    log = d / "logger.lines"
    logged = len(lines(log))
    r = subprocess.run(["sh", str(d / "handler")], env=env, capture_output=True, timeout=60, check=False)
    assert r.stdout == b""
    # Every answer is logged once, by a logger in the background (DRBD does not wait for it).
    end = time.monotonic() + 5
    while len(lines(log)) == logged and time.monotonic() < end:
        time.sleep(0.02)
    return Outcome(
        r.returncode,
        lines(d / "cibadmin.calls"),
        lines(d / "crmadmin.calls"),
        len(lines(d / "sleep.calls")),
        lines(d / "logger.lines"),
    )


def created(out: Outcome) -> list[str]:
    return [c for c in out.cibadmin if c.startswith("--create")]


def constraint_xml(owner: str = NODE) -> str:
    return (
        f'<rsc_location rsc="drbd-r0-clone" id="{CID}"><rule role="Promoted" score="-INFINITY" '
        'id="drbd-fence-by-handler-r0-rule-drbd-r0-clone"><expression attribute="#uname" operation="ne" '
        f'value="{owner}" id="drbd-fence-by-handler-r0-expr-drbd-r0-clone"/></rule></rsc_location>'
    )


@pytest.mark.parametrize("fenced", [FENCED_OLD, FENCED_NEW], ids=["pacemaker-2.1", "pacemaker-3.0"])
def test_a_takeover_after_the_peer_was_fenced_places_the_constraint_and_answers_7(d: Path, fenced: str):
    out = call(d, cib(fenced))
    assert out.rc == 7
    # One query and one create: nothing else between the promotion and DRBD's answer.
    assert out.cibadmin == ["--query", f"--create --scope constraints --xml-text {constraint_xml()}"]
    assert out.crmadmin == []
    assert out.sleeps == 0
    assert out.log == [f"r0: peer {PEER} is fenced: placed constraint {CID} (exit 7)"]


def test_the_constraint_is_the_one_crm_fence_peer_places_in_shape_and_id(d: Path):
    call(d, cib(FENCED_NEW))
    xml = created(call(d, cib(FENCED_NEW)))[0].split("--xml-text ", 1)[1]
    # crm-unfence-peer.sh removes by this id: drbd-fence-by-handler-RESOURCE-CLONE.
    assert re.search(r'<rsc_location rsc="drbd-r0-clone" id="drbd-fence-by-handler-r0-drbd-r0-clone">', xml)
    assert 'role="Promoted" score="-INFINITY"' in xml
    assert f'attribute="#uname" operation="ne" value="{NODE}"' in xml


@pytest.mark.parametrize("member", [MEMBER_OLD, MEMBER_NEW], ids=["pacemaker-2.1", "pacemaker-3.0"])
def test_a_reachable_peer_only_the_replication_link_down_gets_the_constraint_and_4(d: Path, member: str):
    (d / "crmadmin.out").write_text(f"Controller on {PEER} in state S_NOT_DC: ok\n")
    out = call(d, cib(member), drbd=ALONE_CONSISTENT)
    assert out.rc == 4
    assert out.crmadmin == [f"-t 2000ms -S {PEER}"]
    assert len(created(out)) == 1


def test_a_member_whose_controller_does_not_answer_is_waited_for_until_fenced(d: Path):
    """The CIB still lists the peer as a member (a partition not yet noticed): I/O stays frozen until
    Pacemaker has fenced it; no constraint, no answer before."""
    (d / "crmadmin.rc").write_text("1\n")
    out = call(d, cib(MEMBER_NEW), cib(LOST_NEW), cib(FENCED_NEW))
    assert out.rc == 7
    assert out.sleeps == 2
    assert len(out.crmadmin) == 1
    assert [c for c in out.cibadmin if c == "--query"] == ["--query"] * 3
    assert len(created(out)) == 1


def test_a_lost_peer_that_is_never_fenced_gives_up_after_the_timeout_as_crm_fence_peer_does(d: Path):
    out = call(d, cib(LOST_OLD))
    assert out.rc == 5
    assert out.sleeps == 5
    # UpToDate: the constraint is placed before DRBD resumes the writes.
    assert len(created(out)) == 1
    assert out.log[-1] == f"r0: peer {PEER} is lost: placed constraint {CID} (exit 5)"


def test_a_lost_peer_and_only_consistent_data_place_nothing(d: Path):
    out = call(d, cib(LOST_NEW), drbd=ALONE_CONSISTENT)
    assert out.rc == 5
    assert created(out) == []


def test_a_fenced_peer_does_not_make_consistent_data_good_enough(d: Path):
    """DRBD then refuses the promotion (5 with a disk that is not UpToDate outdates nobody)."""
    out = call(d, cib(FENCED_NEW), drbd=ALONE_CONSISTENT)
    assert out.rc == 5
    assert created(out) == []


def test_every_volume_must_be_uptodate(d: Path):
    drbd = proc(
        "0: cs:WFConnection ro:Secondary/Unknown ds:UpToDate/DUnknown C r-----",
        "1: cs:WFConnection ro:Secondary/Unknown ds:Consistent/DUnknown C r-----",
    )
    assert call(d, cib(FENCED_NEW), drbd=drbd, minors="0 1").rc == 5
    assert created(call(d, cib(FENCED_NEW), drbd=drbd, minors="0")) != []


def test_our_constraint_already_placed_answers_4_without_asking_anything_else(d: Path):
    out = call(d, cib(LOST_NEW, constraint_owner=NODE))
    assert out.rc == 4
    assert out.cibadmin == ["--query"]
    assert out.crmadmin == []


def test_a_constraint_that_names_the_peer_means_this_node_was_fenced_out(d: Path):
    out = call(d, cib(FENCED_NEW, constraint_owner=PEER))
    assert out.rc == 1
    assert out.cibadmin == ["--query"]


def test_a_constraint_that_cannot_be_placed_leaves_drbd_frozen(d: Path):
    (d / "create.rc").write_text("76\n")
    out = call(d, cib(FENCED_NEW))
    assert out.rc == 1
    assert "DATA INTEGRITY at risk" in out.log[-1]


def test_a_constraint_placed_meanwhile_by_an_earlier_call_counts(d: Path):
    (d / "create.rc").write_text("76\n")
    out = call(d, cib(FENCED_NEW), cib(FENCED_NEW, constraint_owner=NODE))
    assert out.rc == 7


def test_a_connection_back_before_or_after_the_constraint_fences_nobody(d: Path):
    assert call(d, cib(FENCED_NEW), drbd=CONNECTED).rc == 1
    (d / "cibadmin.calls").unlink()
    (d / "proc_drbd.after_create").write_text(CONNECTED)
    out = call(d, cib(FENCED_NEW))
    assert out.rc == 1
    assert out.cibadmin[-1] == f'--delete --xml-text <rsc_location id="{CID}"/>'


def test_no_settings_an_unreadable_cib_or_a_strange_resource_is_an_error(d: Path):
    (d / "query.fail").write_text("")
    assert call(d, cib(FENCED_NEW)).rc == 1
    (d / "query.fail").unlink()
    (d / "fence-peer.conf").write_text("timeout=5\n")
    assert call(d, cib(FENCED_NEW)).rc == 1


def test_the_peer_is_found_by_its_exact_node_name(d: Path):
    """node20's fenced state is not node2's."""
    other = f'  <node_state id="3" uname="{PEER}" {LOST_NEW}/>\n  </status>'
    text = cib(FENCED_NEW, peer="node20").replace("</status>", other)
    out = call(d, text)
    assert out.rc == 5
    assert out.sleeps == 5


def test_the_drbd_role_names_this_handler_for_drbd_8_4_and_the_cib_template_the_clone_it_protects():
    drbd_vars = yaml.safe_load((ROOT / "roles" / "drbd" / "vars" / "main.yml").read_text())
    pcmk_vars = yaml.safe_load((ROOT / "roles" / "pacemaker" / "vars" / "main.yml").read_text())
    handler = pcmk_vars["__pacemaker_fence_peer_handler"]
    entry = drbd_vars["__drbd_fence_handlers"]["pacemaker"]["fence-peer"]
    assert f"else '{handler}'" in entry
    assert "crm-fence-peer.9.sh' if __drbd_api" in entry
    template = (ROOT / "roles" / "pacemaker" / "templates" / "cib.xml.j2").read_text()
    assert '<clone id="drbd-{{ res.name }}-clone">' in template
    assert 'clone="drbd-$res-clone"' in SCRIPT.read_text()


PING_PARAMS = yaml.safe_load((ROOT / "roles" / "pacemaker" / "vars" / "main.yml").read_text())[
    "__pacemaker_ping_params"
]


def render_cib(notify: bool, agent: str = "ocf:linbit:drbd", resources: int = 1) -> str:
    """templates/cib.xml.j2 with the role's defaults, a small model, and Ansible's two filters it uses."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROOT / "roles" / "pacemaker" / "templates"))
    env.filters["combine"] = lambda a, *more: {k: v for d in (a, *more) for k, v in d.items()}
    env.filters["bool"] = lambda x: x if isinstance(x, bool) else str(x).lower() in ("true", "yes", "1")
    values = yaml.safe_load((ROOT / "roles" / "pacemaker" / "defaults" / "main.yml").read_text())
    kind = dict(zip(("class", "provider", "type"), agent.split(":"), strict=True))
    values.update(
        pacemaker_drbd_notify=notify,
        pacemaker_resources=[{"name": f"r{i}"} for i in range(resources)],
        ha_san_service_ip="192.0.2.100",
        ha_san_san_interface="eth1",
        ha_san_fence_agent="fence_x",
        ha_san_fence_params={},
        ha_san_fence_host_params={},
        __pacemaker_service_prefix=24,
        __pacemaker_nodes=[NODE, PEER],
        __pacemaker_export_priority=10,
        __pacemaker_first_holder_score=1,
        __pacemaker_drbd_agent=kind,
        __pacemaker_export_agent={"class": "ocf", "provider": "ha_san", "type": "aoe-export"},
        __pacemaker_arbiter_type="fence_ha_san_arbiter",
        pacemaker_ping_nodes=["192.0.2.13", "192.0.2.14"],
        # vars/main.yml's ping parameters, with its expressions evaluated as Ansible would for the defaults
        __pacemaker_ping_all_score=2202,
        __pacemaker_ping_params={
            **PING_PARAMS,
            "host_list": "192.0.2.13 192.0.2.14",
            "multiplier": 1101,
            "dampen": f"{values['pacemaker_ping_dampen']}s",
        },
        # vars/main.yml's expression, evaluated as Ansible would for these two inputs
        __pacemaker_drbd_notify_params={}
        if notify or agent != "ocf:linbit:drbd"
        else {"ignore_missing_notifications": "true"},
    )
    return env.get_template("cib.xml.j2").render(**values)


def test_the_drbd_clone_without_notifications_tells_ocf_linbit_drbd_so():
    off = ET.fromstring(render_cib(notify=False))
    meta = {n.get("name"): n.get("value") for n in off.iterfind(".//clone/meta_attributes/nvpair")}
    assert meta["notify"] == "false"
    params = {
        n.get("name"): n.get("value")
        for n in off.iterfind(".//primitive[@id='drbd-r0']/instance_attributes/")
    }
    assert params == {"drbd_resource": "r0", "ignore_missing_notifications": "true"}
    assert off.find(".//op[@name='notify']") is None
    props = {n.get("name"): n.get("value") for n in off.iterfind(".//cluster_property_set/nvpair")}
    assert props["node-action-limit"] == "0"
    assert props["load-threshold"] == "400%"

    on = ET.fromstring(render_cib(notify=True))
    assert {n.get("name"): n.get("value") for n in on.iterfind(".//clone/meta_attributes/nvpair")}[
        "notify"
    ] == "true"
    assert on.find(".//op[@name='notify']") is not None
    assert "ignore_missing_notifications" not in render_cib(notify=True)
    # Another agent (molecule's ocf:pacemaker:Stateful) gets no parameter it does not know.
    assert "ignore_missing_notifications" not in render_cib(notify=False, agent="ocf:pacemaker:Stateful")


def test_the_notify_parameter_expression_in_vars_is_the_one_the_test_models():
    expr = yaml.safe_load((ROOT / "roles" / "pacemaker" / "vars" / "main.yml").read_text())[
        "__pacemaker_drbd_notify_params"
    ]
    assert "if not pacemaker_drbd_notify | bool and pacemaker_drbd_agent == 'ocf:linbit:drbd'" in expr


def test_every_node_s_fencing_level_starts_with_the_arbiter_and_its_ping_nodes():
    config = ET.fromstring(render_cib(notify=False))
    levels = {lv.get("target"): lv for lv in config.iter("fencing-level")}
    assert set(levels) == {NODE, PEER}
    for node, level in levels.items():
        assert (level.get("index"), level.get("devices")) == ("1", f"arbiter-{node},fence-{node}")
        arbiter = config.find(f".//primitive[@id='arbiter-{node}']")
        assert arbiter is not None and arbiter.get("type") == "fence_ha_san_arbiter"
        params = {nv.get("name"): nv.get("value") for nv in arbiter.iter("nvpair")}
        targets = "192.0.2.13,192.0.2.14"
        assert params == {"ping_targets": targets, "isolated_delay": "10", "pcmk_host_list": node}
        away = config.find(f".//rsc_location[@id='arbiter-{node}-away']")
        assert away is not None and (away.get("node"), away.get("score")) == (node, "-INFINITY")
    assert config.find(".//nvpair[@name='priority-fencing-delay']").get("value") == "0s"


def test_the_ping_resource_runs_on_both_servers_and_the_exports_follow_the_san():
    config = ET.fromstring(render_cib(notify=False, resources=2))
    clone = config.find(".//clone[@id='ping-clone']")
    assert clone is not None
    ping = clone.find("primitive")
    assert ping is not None and (ping.get("class"), ping.get("provider"), ping.get("type")) == (
        "ocf",
        "pacemaker",
        "ping",
    )
    params = {nv.get("name"): nv.get("value") for nv in ping.iter("nvpair")}
    assert params["host_list"] == "192.0.2.13 192.0.2.14"
    assert params["name"] == "pingd"
    assert params["use_fping"] == "false"
    assert params["dampen"] == "1s"
    assert ping.find("operations/op[@name='monitor']").get("interval") == "2s"
    rules: dict[str, list[ET.Element]] = {}
    for loc in config.iter("rsc_location"):
        rules.setdefault(loc.get("rsc"), []).extend(loc.findall("rule"))
    rules = {rsc: found for rsc, found in rules.items() if found}
    assert set(rules) == {"export-r0", "export-r1"}
    for measured, not_measured in rules.values():
        assert measured.get("score-attribute") == "pingd"
        expr = measured.find("expression")
        assert (expr.get("attribute"), expr.get("operation")) == ("pingd", "defined")
        # no pingd yet (ping not started, or restarting) scores as reaching both ping nodes
        assert not_measured.get("score") == "2202" and not_measured.get("score-attribute") is None
        expr = not_measured.find("expression")
        assert (expr.get("attribute"), expr.get("operation")) == ("pingd", "not_defined")


def test_a_node_whose_ping_has_not_run_yet_scores_as_reaching_every_ping_node():
    """In the lab's first converge the standby's ping started before the holder's, and the holder, with no
    pingd yet, lost the service to it; a ping restart on the holder (a new parameter) would do the same."""
    pcmk_vars = yaml.safe_load((ROOT / "roles" / "pacemaker" / "vars" / "main.yml").read_text())
    env = jinja2.Environment()
    for nodes in (["192.0.2.13"], ["192.0.2.13", "192.0.2.14", "192.0.2.15"]):
        score = env.from_string(pcmk_vars["__pacemaker_ping_all_score"]).render(
            __pacemaker_ping_multiplier=1101, pacemaker_ping_nodes=nodes
        )
        assert int(score) == 1101 * len(nodes)


def test_with_no_resource_the_service_ip_follows_the_san():
    config = ET.fromstring(render_cib(notify=False, resources=0))
    rules = [loc.get("rsc") for loc in config.iter("rsc_location") if loc.find("rule") is not None]
    assert rules == ["service-ip", "service-ip"]  # measured, and not measured yet


def test_one_ping_node_outweighs_stickiness_and_the_first_holder_tie_breaker():
    """A holder that lost its SAN cable (pingd 0) scores below a peer that reaches one ping node."""
    pcmk_vars = yaml.safe_load((ROOT / "roles" / "pacemaker" / "vars" / "main.yml").read_text())
    expr = pcmk_vars["__pacemaker_ping_multiplier"]
    env = jinja2.Environment()
    defaults = yaml.safe_load((ROOT / "roles" / "pacemaker" / "defaults" / "main.yml").read_text())
    for stickiness in (defaults["pacemaker_resource_stickiness"], 0, 5000):
        multiplier = int(
            env.from_string(expr).render(
                pacemaker_resource_stickiness=stickiness,
                __pacemaker_first_holder_score=pcmk_vars["__pacemaker_first_holder_score"],
            )
        )
        blind_holder = 0 + stickiness + pcmk_vars["__pacemaker_first_holder_score"]
        assert multiplier > blind_holder


def test_every_monitor_start_and_stop_but_drbd_s_own_waits_pacemaker_op_timeout():
    """A monitor that outlives its timeout is a failure, which Pacemaker answers with an outage: on a busy
    lab server ocf:linbit:drbd's monitor passed 20 s and the service restarted."""
    config = ET.fromstring(render_cib(notify=False))
    own = {"start": "240s", "promote": "90s", "demote": "90s", "stop": "100s"}
    for op in config.iter("op"):
        if op.get("id", "").startswith("drbd-") and op.get("name") in own:
            assert op.get("timeout") == own[op.get("name")], op.attrib
        else:
            assert op.get("timeout") == "60s", op.attrib
    ip_ops = {op.get("name") for op in config.iterfind(".//primitive[@id='service-ip']/operations/op")}
    assert ip_ops == {"monitor", "start", "stop"}


def test_every_resource_s_failures_expire_after_pacemaker_failure_timeout():
    """A failed start bans its resource from the node until cleanup: in the lab a failed start of the service
    IP, left from a busy hour, later kept the service on a server that had lost its SAN cable."""
    config = ET.fromstring(render_cib(notify=False))
    nvpairs = config.iterfind("./rsc_defaults/meta_attributes/nvpair")
    defaults = {nv.get("name"): nv.get("value") for nv in nvpairs}
    assert defaults == {"resource-stickiness": "100", "failure-timeout": "600"}


def test_the_service_ip_starts_after_the_exports_and_stops_beside_them():
    """AoE needs no IP. Ordered both ways, the IP's stop (3.8 s on a lab server) came before the exports' in a
    move; not ordered at all, its start took the CPU from the promotion of a one-CPU server after a crash."""
    config = ET.fromstring(render_cib(notify=False, resources=2))
    orders = {(o.get("first"), o.get("then")): o.get("symmetrical") for o in config.iter("rsc_order")}
    assert orders == {
        ("drbd-r0-clone", "export-r0"): None,
        ("drbd-r1-clone", "export-r1"): None,
        ("export-r0", "service-ip"): "false",
        ("export-r1", "service-ip"): "false",
    }
    colocated = {(c.get("rsc"), c.get("with-rsc")) for c in config.iter("rsc_colocation")}
    assert {("service-ip", "export-r0"), ("service-ip", "export-r1")} <= colocated
