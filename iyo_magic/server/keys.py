"""The stand-in's own P-384 signing key, kept in a state directory across restarts."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..dirs import state_directory

log = logging.getLogger(__name__)

PRIVATE_KEY_FILE = "jwt_key.pem"
PUBLIC_KEY_FILE = "jwt_pub.pem"


def default_state_dir() -> Path:
    """Without ``--state-dir``: the package's state directory, beside ``--remember``'s files."""
    return state_directory()


def former_state_dir() -> Path:
    """Where the key was kept up to 0.2 without ``--state-dir``: a folder of another name
    (``iyo-magic``), under XDG's state directory on every platform."""
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "iyo-magic"


def state_dir_or_default(given: Path | None) -> Path:
    """``given`` (``--state-dir``), else the default state directory, into which a key left in the
    former folder is moved first: JWTs it signed still verify, and one folder is left."""
    if given is not None:
        return given
    state_dir, former = default_state_dir(), former_state_dir()
    if not (state_dir / PRIVATE_KEY_FILE).exists() and (former / PRIVATE_KEY_FILE).exists():
        _make_private(state_dir)
        for name in (PRIVATE_KEY_FILE, PUBLIC_KEY_FILE):
            with contextlib.suppress(FileNotFoundError):
                shutil.move(former / name, state_dir / name)  # keeps the private key's mode 0600
        with contextlib.suppress(OSError):
            former.rmdir()  # only when nothing else was in it
        log.warning("moved the stand-in's signing key from %s to %s", former, state_dir)
    return state_dir


def _make_private(state_dir: Path) -> None:
    # 0700: it holds the private key, and --remember refuses a state directory others can read.
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)


class SigningKey:
    """An ES384 key pair; ``private`` for signing, ``public_pem`` for verifiers."""

    def __init__(self, private: ec.EllipticCurvePrivateKey) -> None:
        self.private = private
        self.public_pem = (
            private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(ec.generate_private_key(ec.SECP384R1()))

    @classmethod
    def load_or_create(cls, state_dir: Path) -> SigningKey:
        """Reuse the key in ``state_dir`` so JWTs stay verifiable across restarts."""
        _make_private(state_dir)
        private_path = state_dir / PRIVATE_KEY_FILE
        if private_path.exists():
            private = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
            if not isinstance(private, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{private_path} is not an EC private key")
            key = cls(private)
        else:
            key = cls.generate()
            pem = key.private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
        (state_dir / PUBLIC_KEY_FILE).write_text(key.public_pem)
        return key
