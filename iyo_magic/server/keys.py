"""The stand-in's own P-384 signing key, kept in a state directory across restarts."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

PRIVATE_KEY_FILE = "jwt_key.pem"
PUBLIC_KEY_FILE = "jwt_pub.pem"


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "iyo-magic"


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
        state_dir.mkdir(parents=True, exist_ok=True)
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
