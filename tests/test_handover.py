"""ownnet.handover: the switch interval is short inside quick_handovers, and the one found
before is back after the last caller leaves, from one thread or several."""

from __future__ import annotations

import sys
import threading

import pytest

from ownnet.handover import SWITCH, quick_handovers


@pytest.fixture(autouse=True)
def default_interval():
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield
    sys.setswitchinterval(before)


def test_short_inside_and_restored_after():
    with quick_handovers():
        assert sys.getswitchinterval() == pytest.approx(SWITCH)
        with quick_handovers():  # nested
            assert sys.getswitchinterval() == pytest.approx(SWITCH)
        assert sys.getswitchinterval() == pytest.approx(SWITCH)
    assert sys.getswitchinterval() == pytest.approx(0.005)


def test_off_changes_nothing_and_a_shorter_setting_is_kept():
    with quick_handovers(on=False):
        assert sys.getswitchinterval() == pytest.approx(0.005)
    sys.setswitchinterval(SWITCH / 4)
    shorter = sys.getswitchinterval()  # Python keeps whole microseconds
    with quick_handovers():
        assert sys.getswitchinterval() == shorter
    assert sys.getswitchinterval() == shorter


def test_restored_after_an_error():
    with pytest.raises(RuntimeError), quick_handovers():
        raise RuntimeError("stop")
    assert sys.getswitchinterval() == pytest.approx(0.005)


def test_overlapping_callers_in_two_threads_restore_the_first_interval():
    # thread A enters, B enters, A leaves, B leaves: the interval before A comes back
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def a():
        with quick_handovers():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b():
        a_in.wait(5)
        with quick_handovers():
            b_in.set()
            a_out.wait(5)
            seen.append(sys.getswitchinterval())  # A has left, B still inside

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [pytest.approx(SWITCH)]
    assert sys.getswitchinterval() == pytest.approx(0.005)
