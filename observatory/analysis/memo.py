"""The last result of a costly pure computation, kept under a digest of its inputs.

The secrecy protection audits the same published cells again in its thorough rounds, the
run's audit then attacks the cells of its last round, and every lens of one set of
positions asks for the same protection: at a million positions each of these results takes
minutes. One slot is enough for each (the calls that repeat follow each other), and keeps
the memory of one result only.
"""

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")
_EMPTY = object()  # the key of an empty slot: equal to no key a caller passes


class LastResult(Generic[T]):
    """One slot: `get(key, compute)` returns the value last computed for `key`, or forgets it
    and calls `compute()` when the key differs. For pure computations only: the value may
    depend on nothing but what `key` digests."""

    def __init__(self) -> None:
        self._key: Hashable = _EMPTY
        self._value: T | None = None

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        if self._key != key:
            # The old value goes before the new one is computed: never two in memory.
            self.clear()
            value = compute()
            self._key, self._value = key, value
        return self._value

    def clear(self) -> None:
        self._key, self._value = _EMPTY, None
