"""A record's owner process: alive, gone, recycled pid, another host."""

from __future__ import annotations

import subprocess
import sys

from tradecore.owner import current_owner, owner_gone


def test_this_process_is_alive_and_an_exited_one_is_gone():
    assert not owner_gone(current_owner())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert owner_gone({**current_owner(), "pid": child.pid})


def test_a_recycled_pid_is_not_the_owner():
    me = current_owner()
    assert me["start_ticks"] is not None
    assert owner_gone({**me, "start_ticks": me["start_ticks"] - 1})


def test_owners_elsewhere_or_unknown_get_the_benefit_of_the_doubt():
    assert not owner_gone({**current_owner(), "host": "some-pod-1234", "pid": 999_999})
    assert not owner_gone(None)
    assert not owner_gone({})
