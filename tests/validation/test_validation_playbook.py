"""The shared recap check the refusal tests lean on: it must fail when a host changed or is missing."""

from __future__ import annotations

from validation_playbook import changed_zero

RECAP = """PLAY RECAP *********************************************************************
drbdv1                     : ok=12   changed=0    unreachable=0    failed=1    skipped=3
drbdv2                     : ok=12   changed=2    unreachable=0    failed=0    skipped=3
drbdv10                    : ok=1    changed=0    unreachable=0    failed=0    skipped=0
"""


def test_a_host_that_changed_nothing_passes() -> None:
    assert changed_zero(RECAP, "drbdv1")


def test_a_host_that_changed_something_fails() -> None:
    assert not changed_zero(RECAP, "drbdv1", "drbdv2")


def test_a_host_missing_from_the_recap_fails() -> None:
    assert not changed_zero(RECAP, "drbdv3")
    assert not changed_zero(RECAP)


def test_a_longer_name_is_not_taken_for_a_shorter_one() -> None:
    assert changed_zero(RECAP, "drbdv10")
    assert not changed_zero(RECAP.replace("drbdv1 ", "xdrbdv1 "), "drbdv1")
