"""The token values of the contract: `AccessToken` and `JWT`.

Both are `str` subclasses, so they work anywhere a string does (``f"bearer {jwt}"``,
``"bearer " + jwt``, a header value, a JSON body), but ``repr``, ``str``, ``print``, ``%s``,
pretty-print and the HTML display are masked: showing ``iyo_jwt`` never shows the token.
``.reveal()`` returns the plain value. Expiry is absolute and timezone-aware, computed once when the token is received.
No HTTP here.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar

from .durations import describe_remaining, utc_time

ISSUER = "itsyouonline"
#: What a compact JWT looks like (its header and claims are JSON objects: base64 of ``{"``).
JWT_SHAPE = r"eyJ[\w-]*\.eyJ[\w-]*\.[\w-]*"
JWT_ALGORITHM = "ES384"

_T = TypeVar("_T")


def split_scopes(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Scopes (or audiences) as a tuple: from a string as the server writes it (comma-separated,
    maybe a trailing comma) or as a user types it (spaces too), or from a list of such strings."""
    texts = [value] if isinstance(value, str) else list(value or ())
    return tuple(item for text in texts for item in text.replace(" ", ",").split(",") if item)


def _aware(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


class _MaskedToken(str):
    """A string whose displays never show its value."""

    _kind = "token"

    # Every token has these (each subclass's __new__ sets them): declared here, where they are read.
    scope: tuple[str, ...]
    expires_at: datetime
    username: str

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _set(self, **fields: Any) -> None:
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    #: Seconds the issuing server's clock is ahead of ours (0 unless it is off by 10 s or more).
    clock_offset: float = 0.0

    @property
    def expires_in(self) -> float:
        """Seconds until expiry by the issuer's clock (negative once expired)."""
        return self.expires_at.timestamp() - (time.time() + self.clock_offset)

    @property
    def expired(self) -> bool:
        return self.expires_in <= 0

    @property
    def identity(self) -> str:
        return self.username or getattr(self, "globalid", "") or "?"

    def _summary(self) -> str:
        scope = ",".join(self.scope) or "-"
        when = utc_time(self.expires_at)
        return f"{self.identity}, scope {scope}, expires {when} ({describe_remaining(self.expires_in)})"

    def reveal(self) -> str:
        """The token itself, as a plain ``str``. Never print it."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} (masked) for {self._summary()}>"

    # str(), print(), "%s", logging and %whos show the masked form; f-strings, .format(),
    # concatenation and every library that reads the string's characters get the real value.
    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(self.reveal(), spec)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def _repr_html_(self) -> str:
        from html import escape

        return f"<code>{escape(repr(self))}</code>"

    def __reduce__(self) -> Any:
        # Pickling (e.g. %store) would write the token to disk: refuse.
        raise TypeError(f"{type(self).__name__} values are not picklable, to keep them off disk")


class Secret(str):
    """A client secret (or a code) on its way through: a ``str`` whose ``repr`` and ``str`` are
    masked, so that no traceback, log line or display shows it. Not picklable."""

    def __repr__(self) -> str:
        return "<secret (masked)>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("secrets are not picklable, to keep them off disk")


class AccessToken(_MaskedToken):
    """An opaque ItsYou.online access token (sent as ``Authorization: token <value>``)."""

    client_id: str

    def __new__(
        cls,
        value: str,
        *,
        scope: tuple[str, ...],
        expires_at: datetime,
        username: str = "",
        client_id: str = "",
    ) -> AccessToken:
        token = super().__new__(cls, value)
        token._set(scope=tuple(scope), expires_at=expires_at, username=username, client_id=client_id)
        return token

    @property
    def identity(self) -> str:
        return self.username or self.client_id or "?"

    @classmethod
    def from_response(cls, body: dict[str, Any], client_id: str, received_at: float) -> AccessToken:
        """Build from the token endpoint's JSON (``expires_in`` is relative to receipt); a
        field of the wrong type is an `OAuthError` that names it."""
        info = _typed(body, "info", dict, "the token answer") or {}
        return cls(
            body["access_token"],
            scope=split_scopes(_typed(body, "scope", str, "the token answer")),
            expires_at=_aware(received_at + (_seconds(body, "expires_in", "the token answer") or 0)),
            username=_typed(info, "username", str, "the token answer's info") or "",
            client_id=client_id,
        )


class JWT(_MaskedToken):
    """An ItsYou.online JWT (sent to the Cockpit as ``Authorization: bearer <value>``)."""

    claims: dict[str, Any]
    audience: tuple[str, ...]
    obtained_at: datetime
    globalid: str
    azp: str
    refreshable: bool
    verified: bool
    verify_note: str
    #: How `derive` asks for a new JWT: set by the login that issued this one (`protocol.issued_jwt`).
    _deriver: Callable[..., JWT] | None = None

    def __new__(
        cls,
        value: str,
        *,
        public_key: str | None = None,
        obtained_at: float | None = None,
        clock_offset: float = 0.0,
    ) -> JWT:
        claims = decode_claims(value)
        verified, note = verify_signature(value, public_key)
        token = super().__new__(cls, value)
        scope, audience = _names(claims, "scope"), _names(claims, "aud")
        shown_claims = dict(claims)
        if "refresh_token" in shown_claims:
            shown_claims["refresh_token"] = "<masked>"  # a credential: keep it out of outputs
        token._set(
            claims=shown_claims,
            scope=scope,
            audience=audience,
            expires_at=_aware(_seconds(claims, "exp", "the JWT") or 0),
            obtained_at=_aware(time.time() if obtained_at is None else obtained_at),
            username=_typed(claims, "username", str, "the JWT") or "",
            globalid=_typed(claims, "globalid", str, "the JWT") or "",
            azp=_typed(claims, "azp", str, "the JWT") or "",
            refreshable=bool(_typed(claims, "refresh_token", str, "the JWT")),
            verified=verified,
            verify_note=note,
            clock_offset=clock_offset,
        )
        return token

    @property
    def lifetime(self) -> float:
        """Seconds between receipt and expiry (by the issuer's clock)."""
        return max(0.0, self.expires_at.timestamp() - self.obtained_at.timestamp() - self.clock_offset)

    @property
    def clock_note(self) -> str:
        """Says so when this machine's clock is off from the issuer's (expiry is corrected)."""
        if abs(self.clock_offset) < 60:
            return ""
        ahead = "behind" if self.clock_offset > 0 else "ahead of"
        off = describe_remaining(abs(self.clock_offset))[len("in ") :]
        return f"this machine's clock is {off} {ahead} ItsYou.online's; expiry corrected"

    def derive(
        self,
        aud: str | Iterable[str] = (),
        scope: str | Iterable[str] | None = None,
        validity: int | None = None,
        refreshable: bool = False,
    ) -> JWT:
        """A new JWT from this one, fit to hand to another service: by default without a refresh
        token (as ItsYou.online advises), so it cannot outlive ``validity``. One request.

        aud          audiences of the new JWT (a list, or comma-separated), e.g. the service's organization
        scope        its scopes (default: this JWT's); only scopes this JWT's login allows
        validity     its lifetime in seconds (it can only be shorter than 24 hours)
        refreshable  True to give it a refresh token of its own

        Only a user's JWT can be derived from (ItsYou.online's rule); it must be refreshable.
        """
        from .errors import ConfigError, IyoError

        deriver = self._deriver
        if deriver is None:
            raise ConfigError("derive: this JWT was not obtained by a login here; use iyo_jwt")
        try:
            return deriver(self, aud=aud, scope=scope, validity=validity, refreshable=refreshable)
        except IyoError as error:  # from here: the frames below hold the JWT in their arguments
            raise error.with_traceback(None) from None

    def _repr_html_(self) -> str:
        from .notebook.card import jwt_card

        return jwt_card(self)

    def _summary(self) -> str:
        signature = "signature verified" if self.verified else "signature NOT verified"
        refresh = "refreshable" if self.refreshable else "not refreshable"
        aud = f", aud {','.join(self.audience)}" if self.audience else ""
        return f"{super()._summary()}{aud}, {refresh}, {signature}"


#: No token lives longer than this (a sanity bound on numbers received).
LONGEST_LIFETIME = 10 * 365 * 24 * 3600.0


def _typed(data: Mapping[str, Any], key: str, kind: type[_T], where: str) -> _T | None:
    """``data[key]`` when of type ``kind``, None when absent or empty; else an `OAuthError` naming the field."""
    from .errors import OAuthError

    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, kind) and not isinstance(value, bool):
        return value
    raise OAuthError(f"{where} is malformed: its {key!r} is not a {kind.__name__}")


def _seconds(data: Mapping[str, Any], key: str, where: str) -> float | None:
    """A time in seconds (``expires_in`` or ``exp``): a finite number in a sane range."""
    from .errors import OAuthError

    value = data.get(key)
    if value is None:
        return None
    limit = LONGEST_LIFETIME + (time.time() if key == "exp" else 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= limit:
        raise OAuthError(f"{where} is malformed: its {key!r} is not a sensible number of seconds")
    return float(value)


def _names(claims: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """A claim that holds one name or a list of names (``scope``, ``aud``)."""
    from .errors import OAuthError

    value = claims.get(key) or []
    if isinstance(value, str):
        return split_scopes(value) if key == "scope" else (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(item for item in value if item)
    raise OAuthError(f"the JWT is malformed: its {key!r} is not a name or a list of names")


def decode_claims(value: str) -> dict[str, Any]:
    """The payload of a compact JWT, without checking the signature."""
    from .errors import OAuthError

    parts = value.split(".")
    if len(parts) != 3:
        raise OAuthError("the server's answer is not a JWT (expected three dot-separated parts)")
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, binascii.Error, RecursionError):
        raise OAuthError("the server's answer is not a JWT (its payload does not decode)") from None
    if not isinstance(claims, dict):
        raise OAuthError("the server's answer is not a JWT (its payload is not an object)")
    return claims


def verify_signature(value: str, public_key: str | None) -> tuple[bool, str]:
    """Check the ES384 signature and issuer; returns (verified, why not)."""
    if not public_key:
        return False, "no public key configured"
    import jwt as pyjwt

    try:
        pyjwt.decode(
            value,
            public_key,
            algorithms=[JWT_ALGORITHM],
            issuer=ISSUER,
            options={"verify_exp": False, "verify_aud": False, "require": ["iss"]},
        )
    except pyjwt.InvalidSignatureError:
        return False, "signature does not match the configured public key"
    except pyjwt.InvalidIssuerError:
        return False, f"issuer is not {ISSUER}"
    except (pyjwt.PyJWTError, ValueError) as exc:
        return False, f"cannot verify: {type(exc).__name__}"
    return True, ""
