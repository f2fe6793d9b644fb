"""Where ``--remember`` keeps a login's refreshable JWT between kernels: the system keyring when
``keyring`` finds a real backend, else a file of its own under the user's state directory.
`chosen_backend` is the one place that chooses (a new place is one class with `Backend`'s
methods, listed in `BACKENDS`), and `Place` tells the front ends where a JWT is kept, as data.

Only the JWT is kept (never the client secret or the access token), one per `LoginKey`: the same
base URL, client, flow, scope and audience. A file is mode 0600 in a 0700 directory that belongs
to the user; a looser file or directory is refused, saying why, and never silently skipped.
Writes are atomic (a new file renamed over the old), and a lock file per login lets kernels
that refresh at once take turns (see ``remember.resume``).

An index in the state directory (``logins.json``: each login's settings, no JWT) names the
logins kept, in whatever place, so that ``--status`` can list them and ``--logout`` can say which
others remain, or forget them all. Forgetting looks in every place this machine has now (the
keyring, if one is found, and the files), wherever the JWT was kept when it was remembered.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from ..dirs import state_directory
from ..errors import ConfigError
from ..tokens import JWT_SHAPE

if TYPE_CHECKING:
    from ..oauth.request import LoginRequest
    from ..tokens import JWT

KEYRING_SERVICE = "iyo_magic"
#: A keyring that has not answered by then (a locked desktop keyring waiting for a password
#: dialog nobody sees) is given up on, so that it never hangs a notebook.
KEYRING_DEADLINE = 10.0
#: How long a kernel waits for another one that is refreshing or writing the same login; then
#: a login goes on without remembering (a refresh takes well under a second, and a stuck
#: process must not stop a notebook).
LOCK_PATIENCE = 5.0
#: The index of the kept logins (their settings, never a JWT), in the state directory.
INDEX_FILE = "logins.json"


class Unreadable(ConfigError):
    """The kept entry is not a JWT (a corrupt or hand-edited file)."""


class LockHeld(ConfigError):
    """Another process has held a login's lock past the deadline (``seconds``)."""

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


@dataclass(frozen=True)
class LoginKey:
    """What makes two logins the same for ``--remember``; no secret in it."""

    base_url: str
    client_id: str
    flow: str
    scopes: tuple[str, ...]
    audiences: tuple[str, ...]

    @classmethod
    def of(cls, request: LoginRequest) -> LoginKey:
        return cls(request.base_url, request.client_id, request.flow, request.scopes, request.audiences)

    @property
    def name(self) -> str:
        """A stable name for files and keyring entries (a hash: client ids stay out of file names)."""
        text = "\n".join([self.base_url, self.client_id, self.flow, ",".join(self.scopes), ",".join(self.audiences)])
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @classmethod
    def from_fields(cls, fields: Any) -> LoginKey | None:
        """The key an index entry describes; None for an entry of another shape."""
        try:
            key = cls(
                str(fields["base_url"]),
                str(fields["client_id"]),
                str(fields["flow"]),
                tuple(str(scope) for scope in fields["scopes"]),
                tuple(str(audience) for audience in fields["audiences"]),
            )
        except (KeyError, TypeError):
            return None
        return key

    def fields(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "client_id": self.client_id,
            "flow": self.flow,
            "scopes": list(self.scopes),
            "audiences": list(self.audiences),
        }

    def __str__(self) -> str:
        parts = [f"{self.client_id} at {self.base_url}", self.flow]
        if self.scopes:
            parts.append("scope " + ",".join(self.scopes))
        if self.audiences:
            parts.append("aud " + ",".join(self.audiences))
        return ", ".join(parts)


@dataclass(frozen=True)
class Place:
    """Where one login's JWT is kept, as data (no value in it): ``str()`` gives it in words."""

    #: The backend: ``keyring`` or ``file``.
    kind: str
    #: Its place there, in words: "the file <state dir>/<hash>.jwt", "the system keyring (<its
    #: class>, service 'iyo_magic')".
    where: str
    #: Whoever can read the place can use the JWT (only file modes guard it): shown with a warning.
    plain: bool

    def __str__(self) -> str:
        return self.where


class Backend(Protocol):
    """A place for the kept JWTs, one entry per `LoginKey`; the text kept is the JWT alone."""

    def place(self, key: LoginKey) -> Place: ...

    def read(self, key: LoginKey) -> str | None: ...

    def write(self, key: LoginKey, text: str) -> None: ...

    def forget(self, key: LoginKey) -> bool: ...


class Keyring:
    """The system keyring, an entry per login under the service `KEYRING_SERVICE`."""

    def __init__(self, keyring: Any) -> None:
        self.keyring = keyring

    @classmethod
    def found(cls, directory: Path) -> Keyring | None:
        keyring = system_keyring()
        return cls(keyring) if keyring is not None else None

    def place(self, key: LoginKey) -> Place:
        words = f"the system keyring ({type(self.keyring).__name__}, service {KEYRING_SERVICE!r})"
        return Place("keyring", words, plain=False)

    def read(self, key: LoginKey) -> str | None:
        return _within_deadline(self.keyring.get_password, KEYRING_SERVICE, key.name)

    def write(self, key: LoginKey, text: str) -> None:
        _within_deadline(self.keyring.set_password, KEYRING_SERVICE, key.name, text)

    def forget(self, key: LoginKey) -> bool:
        from keyring.errors import PasswordDeleteError

        try:
            _within_deadline(self.keyring.delete_password, KEYRING_SERVICE, key.name)
        except PasswordDeleteError:
            return False
        return True


class PlainFile:
    """A file per login in the state directory (0600 in 0700): there is always one."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def place(self, key: LoginKey) -> Place:
        return Place("file", f"the file {self._file(key)}", plain=True)

    def read(self, key: LoginKey) -> str | None:
        return _read_private_file(self._file(key))

    def write(self, key: LoginKey, text: str) -> None:
        _write_private(self.directory, self._file(key), text)

    def forget(self, key: LoginKey) -> bool:
        return self.forget_name(key.name)

    def forget_name(self, name: str) -> bool:
        """Delete the file of the login named ``name`` (a key's hash); True when there was one."""
        try:
            (self.directory / f"{name}.jwt").unlink()
        except FileNotFoundError:
            return False
        return True

    def names(self) -> list[str]:
        """The names of the logins that have a file here."""
        return sorted(path.stem for path in self.directory.glob("*.jwt"))

    def _file(self, key: LoginKey) -> Path:
        return self.directory / f"{key.name}.jwt"


#: The places tried first, best first: each, given the state directory, is this machine's, or
#: None when it has none. Without any, a plain file in the state directory keeps the JWTs.
BACKENDS: tuple[Callable[[Path], Backend | None], ...] = (Keyring.found,)


def chosen_backend(directory: Path) -> Backend:
    """The first of `BACKENDS` this machine has, else a `PlainFile` in ``directory``."""
    return every_backend(directory)[0]


def every_backend(directory: Path) -> list[Backend]:
    """Every place this machine has now, best first; a `PlainFile` in ``directory`` last (always)."""
    found: list[Backend] = [backend for backend in (find(directory) for find in BACKENDS) if backend is not None]
    return [*found, PlainFile(directory)]


@dataclass(frozen=True)
class Kept:
    """One login kept somewhere, as ``--status`` and ``--logout`` name it (no JWT in it)."""

    #: Its key's name (the hash files and keyring entries are named by).
    name: str
    #: Its settings; None for a file that the index does not name (kept by an earlier version).
    key: LoginKey | None
    #: Where it is kept (one place, or more when a keyring appeared after a file was written).
    places: tuple[Place, ...]
    #: The kept JWT, read unverified for whose it is and its expiry (masked when shown); None if unreadable.
    jwt: JWT | None = None

    def __str__(self) -> str:
        return str(self.key) if self.key is not None else f"a login kept in the file {self.name}.jwt"


class RememberedJwts:
    """The kept JWTs of this user. Creating one checks (or makes) the state directory, so a
    directory others can read is refused before any login starts."""

    def __init__(self, *, create: bool = True) -> None:
        self.directory = state_directory()
        if create or self.directory.exists():  # only looking (--status): no directory is made
            private_directory(self.directory)
        #: Every place this machine has now (the files last); the first keeps new JWTs.
        self.backends = every_backend(self.directory)
        self.backend = self.backends[0]
        self.files = PlainFile(self.directory)

    def place(self, key: LoginKey) -> Place:
        """Where ``key``'s JWT is kept."""
        return self.backend.place(key)

    def read(self, key: LoginKey) -> str | None:
        """The kept JWT, or None; `Unreadable` when the entry is not a JWT."""
        text = self.backend.read(key)
        if text is None:
            return None
        text = text.strip()
        if not re.fullmatch(JWT_SHAPE, text):
            raise Unreadable(f"the remembered JWT in {self.place(key)} is unreadable (not a JWT)")
        return text

    def write(self, key: LoginKey, jwt: str) -> None:
        """Keep ``jwt`` (the JWT's text and nothing else) for ``key``, replacing what was kept."""
        self.backend.write(key, str.__str__(jwt))
        self._update_index(lambda index: index.__setitem__(key.name, key.fields()))

    def forget(self, key: LoginKey) -> list[Place]:
        """Delete ``key``'s JWT from every place this machine has now; the places it was in."""
        places = [backend.place(key) for backend in self.backends if backend.forget(key)]
        self._update_index(lambda index: index.pop(key.name, None))
        return places

    #: True once the index was found unreadable (keyring entries it named cannot be listed).
    index_damaged = False

    def kept(self) -> list[Kept]:
        """Every login kept now, in any place: those the index names, and files it does not."""
        index = self._index()
        found = []
        for name, fields in sorted(index.items()):
            key = LoginKey.from_fields(fields)
            if key is None or key.name != name:
                continue
            texts = {backend.place(key): _peek(backend.read, key) for backend in self.backends}
            places = tuple(place for place, text in texts.items() if text is not None)
            if places:
                found.append(Kept(name, key, places, _unverified(next((t for t in texts.values() if t), None))))
        for name in self.files.names():
            if name not in index:
                path = self.directory / f"{name}.jwt"
                text = _peek(_read_private_file, path)
                found.append(Kept(name, None, (Place("file", f"the file {path}", True),), _unverified(text)))
        return found

    def forget_all(self) -> list[Kept]:
        """Delete every kept login's JWT from every place; the logins that were kept."""
        kept = self.kept()
        for login in kept:
            if login.key is not None:
                self.forget(login.key)
            else:
                self.files.forget_name(login.name)
        self._update_index(lambda index: index.clear())
        return kept

    @contextlib.contextmanager
    def lock(self, key: LoginKey, deadline: float | None = None) -> Iterator[None]:
        """Hold ``key``'s lock (one kernel at a time refreshes or writes it); a file in the state
        directory whatever the backend, as a keyring has no locks. `LockHeld` after ``deadline``."""
        path = self.directory / f"{key.name}.lock"
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _acquire(descriptor, path, LOCK_PATIENCE if deadline is None else deadline)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock

    def locked(self, key: LoginKey) -> bool:
        """True when another process (or thread) holds ``key``'s lock now; never waits."""
        try:
            with self.lock(key, deadline=0):
                return False
        except LockHeld:
            return True

    def _index(self) -> dict[str, Any]:
        try:
            text = _read_private_file(self.directory / INDEX_FILE)
            index = json.loads(text) if text else {}
        except (Unreadable, ValueError):  # a damaged index: the files are still found by name
            index = None
        if not isinstance(index, dict):
            self.index_damaged = True  # a keyring's entries cannot be found without it
            return {}
        return index

    def _update_index(self, change: Callable[[dict[str, Any]], Any]) -> None:
        """Change the index under its own lock, written atomically."""
        if not self.directory.exists():
            return
        path = self.directory / "logins.lock"
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _acquire(descriptor, path, LOCK_PATIENCE)
            index = self._index()
            change(index)
            _write_private(self.directory, self.directory / INDEX_FILE, json.dumps(index, sort_keys=True))
        finally:
            os.close(descriptor)


def system_keyring():
    """The keyring backend ``keyring`` chose, when it is a real one (priority 1 or more: not
    its fail or null backend, nor a plain-text one); None without ``keyring`` or such a backend."""
    try:
        import keyring
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
        return backend if backend.priority >= 1 else None
    except Exception:  # a backend that cannot even say its priority is no keyring to trust
        return None


def private_directory(path: Path, who: str = "--remember") -> None:
    """Make ``path`` (0700), or check that it is a directory only its owner can use; ``who`` keeps
    files there (the stand-in's ``--state-dir`` too) and is named in the one-line refusal."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(f"cannot make the directory {path} for {who} ({exc.strerror})") from None
    if os.name != "posix":
        return
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{path} is not a directory; {who} keeps its files there: remove it")
    _refuse_if_shared(path, info, "directory", "700", who)


def _peek(read: Callable[[Any], str | None], where: Any) -> str | None:
    """What ``read(where)`` finds; '' for an entry that is there but cannot be read (a file others
    can read, not ASCII): listed and deleted all the same."""
    try:
        return read(where)
    except ConfigError:
        return ""


def _unverified(text: str | None) -> JWT | None:
    """A kept JWT's claims (no signature check: only to say whose it is and until when)."""
    from ..errors import IyoError
    from ..tokens import JWT

    try:
        return JWT(text.strip()) if text else None
    except (IyoError, ValueError):
        return None


def _write_private(directory: Path, path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a new file, mode 0600, renamed over the old)."""
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _read_private_file(path: Path) -> str | None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if os.name == "posix":
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path} is not a regular file; --remember refuses it: remove it")
        _refuse_if_shared(path, info, "file", "600")
    try:
        return path.read_text(encoding="ascii")
    except UnicodeDecodeError:
        raise Unreadable(f"the remembered JWT in the file {path} is unreadable (not a JWT)") from None


def _refuse_if_shared(path: Path, info: os.stat_result, kind: str, mode: str, who: str = "--remember") -> None:
    if info.st_uid != os.getuid():
        raise ConfigError(f"{who} refuses the {kind} {path}: it belongs to another user")
    if info.st_mode & 0o077:
        raise ConfigError(
            f"{who} refuses the {kind} {path}: others can use it (mode {stat.S_IMODE(info.st_mode):o}); "
            f"run chmod {mode} {path}"
        )


def _acquire(descriptor: int, path: Path, deadline: float) -> None:
    # By platform, not by ImportError: so a type checker knows which module each branch has.
    if sys.platform == "win32":  # a byte-range lock on the file's first byte
        import msvcrt

        def try_lock() -> None:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        def try_lock() -> None:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)

    end = time.monotonic() + deadline
    while True:
        try:
            try_lock()
            return
        except OSError:
            if time.monotonic() >= end:
                raise LockHeld(
                    f"another kernel has held {path} for {deadline:g} s; try again, or delete that file "
                    "if no other kernel is running",
                    deadline,
                ) from None
            time.sleep(0.05)


def _within_deadline(call: Callable, *args):
    """``call(*args)`` in a thread; a `ConfigError` when it has not answered by `KEYRING_DEADLINE`."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = call(*args)
        except BaseException as exc:  # handed back to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True, name="iyo-keyring")
    worker.start()
    worker.join(KEYRING_DEADLINE)
    if worker.is_alive():
        raise ConfigError(
            f"the system keyring did not answer within {KEYRING_DEADLINE:g} s (locked?); unlock it, or "
            "set PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring to keep the JWT in a file instead"
        )
    if "error" in outcome:
        error = outcome["error"]
        from keyring.errors import KeyringError, PasswordDeleteError

        if isinstance(error, PasswordDeleteError):
            raise error
        if isinstance(error, KeyringError):
            raise ConfigError(f"the system keyring failed ({type(error).__name__}); nothing was kept") from None
        raise error
    return outcome.get("value")
