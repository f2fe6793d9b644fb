"""`Frozen`: the base of the small immutable values on the first JWT's path (`LoginRequest`,
`JwtOptions`).

What a frozen dataclass gives (equality and hashing by value, a ``Name(field=value, ...)`` repr,
assignment refused, `replace`), from a plain class with ``__slots__``: a dataclass pays for its
creation on every import (about 1 ms each), a plain class is read from its compiled bytecode.
"""

from __future__ import annotations

from typing import Any, TypeVar

_V = TypeVar("_V", bound="Frozen")


class Frozen:
    """Subclasses list their fields in ``__slots__``, in the order of their ``__init__``'s
    parameters, and set them with `_set`."""

    __slots__: tuple[str, ...] = ()

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple:
        """Copied and pickled through ``__init__`` (which checks again), as assignment is refused."""
        return type(self), self._values()

    def replace(self: _V, **changes: Any) -> _V:
        """A copy with ``changes`` (field=value), checked as a new value is."""
        return type(self)(**{**dict(zip(self.__slots__, self._values())), **changes})
