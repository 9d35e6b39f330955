"""The one-slot memo of the secrecy computations (observatory.analysis.memo)."""

import gc
import weakref

import pytest

from observatory.analysis.memo import LastResult


class Table:
    """A value that can be watched for being freed."""

    def __init__(self, name):
        self.name = name


def test_a_key_seen_last_is_not_computed_again_and_a_new_key_is():
    memo = LastResult()
    calls = []

    def compute(name):
        calls.append(name)
        return Table(name)

    first = memo.get("a", lambda: compute("a"))
    assert memo.get("a", lambda: compute("a again")) is first
    second = memo.get("b", lambda: compute("b"))
    assert second.name == "b"
    assert memo.get("a", lambda: compute("a, forgotten")).name == "a, forgotten"
    assert calls == ["a", "b", "a, forgotten"]


def test_the_old_value_is_freed_before_the_new_one_is_computed():
    # Two results of a million-position protection never sit in memory at once.
    memo = LastResult()
    old = weakref.ref(memo.get("a", lambda: Table("a")))
    seen = []

    def compute():
        gc.collect()
        seen.append(old() is None)
        return Table("b")

    memo.get("b", compute)
    assert seen == [True]


def test_a_failed_computation_leaves_nothing_behind():
    memo = LastResult()
    memo.get("a", lambda: Table("a"))

    def fail():
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError, match="stopped"):
        memo.get("b", fail)
    assert memo.get("a", lambda: Table("a again")).name == "a again"
    assert memo.get("b", lambda: Table("b")).name == "b"


def test_none_is_a_value_and_any_key_counts():
    memo = LastResult()
    calls = []
    assert memo.get(None, lambda: calls.append("none")) is None
    assert memo.get(None, lambda: calls.append("again")) is None
    assert calls == ["none"]
