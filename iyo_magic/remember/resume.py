"""``--remember`` during a login: resume a kept JWT with one refresh (no browser, no secret),
keep a new login's JWT, and write renewals back (see ``remember.store`` for where).

Two kernels that resume the same login at once take turns on its lock: the second finds the
JWT the first wrote and uses it, so there is one refresh. A kept JWT that ItsYou.online says
cannot be refreshed (a 400 or 401: the authorization was removed, or it went unused for 30
days) is deleted and the login runs as usual, saying so. Any other failure (a 5xx, a timeout, no
connection) keeps it: the login fails with "ItsYou.online failed; the remembered JWT is kept;
try again", so that a server's hiccup cannot lose a login. A lock that another process holds
past `store.LOCK_PATIENCE` (a stuck kernel) does not stop a login either: it runs as usual,
without remembering, and says so.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..errors import ConfigError, IyoError, RefreshError
from ..oauth import protocol
from ..oauth.renewal import refresh_refused
from .store import Kept, LockHeld, LoginKey, Place, RememberedJwts, Unreadable

if TYPE_CHECKING:
    from ..oauth.request import LoginRequest
    from ..oauth.transport import Transport
    from ..tokens import JWT

log = logging.getLogger(__name__)

REMOTE_NOTE = (
    "--remember on a remote kernel (JupyterHub, Binder): the JWT is kept in {place} on the server, "
    "where its administrators may be able to read it"
)
_warned_remote = False


class Remembering:
    """The ``--remember`` part of one login of ``request``."""

    def __init__(self, request: LoginRequest, notice: Callable[[str], None] = print) -> None:
        if not request.want_jwt or not request.refreshable:
            raise ConfigError("--remember keeps a refreshable JWT: it does not go with --no-jwt or --no-refresh")
        self.request = request
        self.key = LoginKey.of(request)
        self.store = RememberedJwts()
        self.notice = notice
        self.place = self.store.place(self.key)
        #: Another process held the login's lock too long: this login goes on without remembering.
        self.locked_out = False
        self._warn_if_remote()

    def resume(self, transport: Transport, options: protocol.JwtOptions) -> JWT | None:
        """The kept JWT, refreshed (one request); None when there is none to use."""
        base_url = self.request.base_url
        try:
            seen = self.store.read(self.key)
            if seen is None:
                return None
            with self.store.lock(self.key):
                current = self.store.read(self.key)
                if current is None:  # logged out meanwhile
                    return None
                if current != seen:  # another kernel refreshed it while this one waited
                    return protocol.issued_jwt(transport, base_url, current, options.public_key)
                jwt = protocol.refresh_jwt(transport, base_url, current, options)
                if self.store.read(self.key) is not None:  # else logged out meanwhile: not written back
                    self.store.write(self.key, jwt)
                return jwt
        except Unreadable as exc:
            self.notice(f"{exc}; logging in as usual (the login replaces it)")
        except LockHeld as held:
            self.locked_out = True
            self.notice(
                f"another process has held this login's --remember lock for {held.seconds:g} s (a refresh "
                "in progress?); logging in as usual, without remembering this time"
            )
        except ConfigError:
            raise  # a file or directory others can read, a keyring that does not answer: the user must act
        except IyoError as exc:
            if not refresh_refused(exc):  # a 5xx, a timeout, no answer: the refresh token may be fine
                raise RefreshError(f"ItsYou.online failed; the remembered JWT is kept; try again ({exc})") from None
            self.store.forget(self.key)
            idle = protocol.REFRESH_TOKEN_IDLE_DAYS
            lapsed = f"the authorization was removed on ItsYou.online, or it went unused for {idle} days"
            reason = lapsed if getattr(exc, "status", None) == 401 else str(exc)
            self.notice(f"the remembered JWT could not be refreshed ({reason}); logging in as usual")
        return None

    def keep(self, jwt: JWT) -> bool:
        """Keep a new login's JWT; says so when it cannot (the login itself stands). True when kept."""
        if self.locked_out:
            return False
        if not jwt.refreshable:
            self.notice("not remembered: ItsYou.online sent a JWT without a refresh token")
            return False
        try:
            with self.store.lock(self.key):
                self.store.write(self.key, jwt)
        except (IyoError, OSError) as exc:
            self.notice(f"not remembered: {exc}")
            return False
        return True

    def write_back(self, jwt: JWT) -> None:
        """Keep a renewed JWT (an `IyoAuth` renewal) unless the login was logged out meanwhile; a
        failure is logged, never raised into a request."""
        if self.locked_out:
            return
        try:
            with self.store.lock(self.key):
                if self.store.read(self.key) is not None:
                    self.store.write(self.key, jwt)
        except (IyoError, OSError) as exc:
            log.warning("the renewed JWT was not remembered: %s", exc)

    def _warn_if_remote(self) -> None:
        global _warned_remote
        from ..browser.options import running_remotely

        if not _warned_remote and running_remotely():
            _warned_remote = True
            self.notice(REMOTE_NOTE.format(place=self.place))


@dataclass(frozen=True)
class Forgotten:
    """What `forget` did. No JWT in it but ``text``, read for its expiry and never shown."""

    #: The JWT that was kept, or None.
    text: str | None
    #: Where it was deleted from (none: there was none).
    places: tuple[Place, ...]
    #: Another process held the login's lock (a refresh in progress): deleted without waiting.
    busy: bool
    #: The other logins still kept.
    others: tuple[Kept, ...]


def forget(request: LoginRequest) -> Forgotten:
    """Delete ``request``'s kept JWT from every place this machine has now, without waiting for
    its lock; say what other logins stay kept."""
    store = RememberedJwts()
    key = LoginKey.of(request)
    text = None
    for backend in store.backends:
        with contextlib.suppress(ConfigError):  # unreadable, or a file others can read: deleted all the same
            text = text or backend.read(key)
    busy = store.locked(key)
    places = store.forget(key)
    others = tuple(kept for kept in store.kept() if kept.name != key.name)
    return Forgotten(text, tuple(places), busy, others)


def forget_all(request: LoginRequest | None = None) -> tuple[list[Kept], bool, bool]:
    """Delete every kept login of this user from every place, ``request``'s too even where the
    index does not name it: (those logins, whether a refresh was in progress, whether the index
    was unreadable, so that a keyring's other entries may remain)."""
    store = RememberedJwts()
    busy = any(store.locked(kept.key) for kept in store.kept() if kept.key is not None)
    forgotten = store.forget_all()
    if request is not None and request.want_jwt and request.refreshable:
        key = LoginKey.of(request)
        places = store.forget(key) if key.name not in {kept.name for kept in forgotten} else []
        if places:
            forgotten.append(Kept(key.name, key, tuple(places), None))
    return forgotten, busy, store.index_damaged


def kept_logins() -> list[Kept]:
    """Every login kept now, for ``--status`` (makes no directory)."""
    return RememberedJwts(create=False).kept()


def kept_note(request: LoginRequest) -> str:
    """One line for ``--status`` in a kernel that has not logged in: is a JWT kept for this login?"""
    from ..tokens import JWT

    store = RememberedJwts(create=False)
    key = LoginKey.of(request)
    try:
        text = store.read(key)
    except Unreadable as exc:
        return f"{exc}; the next --remember login replaces it"
    if text is None:
        return f"no remembered JWT for {key}"
    kept, place = JWT(text), store.place(key)
    plain = " (a plain file)" if place.plain else ""
    return f"a remembered JWT for {kept.identity} is kept in {place}{plain}: the same call with --remember refreshes it"
