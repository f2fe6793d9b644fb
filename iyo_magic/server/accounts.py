"""The accounts a stand-in knows: organizations with API keys, users with passwords and keys.

The JSON shape (``iyo-magic serve --accounts FILE``)::

    {"organizations": [{"globalid": "org1",
                        "api_keys": [{"label": "notebook", "secret": "...",
                                      "client_credentials": true,
                                      "callback_url": "http://127.0.0.1:8976/callback"}]}],
     "users": [{"username": "alice", "password": "...", "memberof": ["org1"],
                "api_keys": [{"applicationid": "...", "secret": "..."}]}]}
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..settings import DEFAULT_REDIRECT_URI

DEMO_ORGANIZATION = "cockpit-demo"
DEMO_CALLBACK_URL = DEFAULT_REDIRECT_URI  # the client's default redirect URI works out of the box


@dataclass(frozen=True)
class OrgApiKey:
    label: str
    secret: str = field(repr=False)
    client_credentials: bool = True
    callback_url: str = ""


@dataclass(frozen=True)
class UserApiKey:
    applicationid: str
    secret: str = field(repr=False)
    label: str = ""


@dataclass(frozen=True)
class Organization:
    globalid: str
    api_keys: tuple[OrgApiKey, ...] = ()


@dataclass(frozen=True)
class User:
    username: str
    password: str = field(repr=False)
    memberof: tuple[str, ...] = ()
    api_keys: tuple[UserApiKey, ...] = ()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class AccountsError(ValueError):
    """The accounts file is not of the documented shape."""


_TEXT, _FLAG, _TEXTS = "a non-empty string", "true or false", "a list of strings"
#: The documented shape: each field and what it must hold (required fields first in each list).
_ORGANIZATION = {"globalid": _TEXT, "api_keys": list}
_ORG_KEY = {"secret": _TEXT, "label": str, "client_credentials": _FLAG, "callback_url": str}
_USER = {"username": _TEXT, "password": str, "memberof": _TEXTS, "api_keys": list}
_USER_KEY = {"applicationid": _TEXT, "secret": _TEXT, "label": str}
_REQUIRED = {"globalid", "secret", "username", "applicationid"}


def _check_fields(item, fields: dict, where: str) -> None:
    if not isinstance(item, dict):
        raise AccountsError(f"accounts: {where} must be an object")
    for name, kind in fields.items():
        if name not in item:
            if name in _REQUIRED:
                raise AccountsError(f"accounts: missing or malformed field '{name}' in {where}")
            continue
        value = item[name]
        ok = (
            {
                _TEXT: isinstance(value, str) and bool(value),
                _FLAG: isinstance(value, bool),
                _TEXTS: isinstance(value, list) and all(isinstance(v, str) for v in value),
            }.get(kind)
            if isinstance(kind, str)
            else isinstance(value, kind)
        )
        if not ok:
            shown = kind if isinstance(kind, str) else f"a {kind.__name__}"
            raise AccountsError(f"accounts: {where}.{name} must be {shown}")


def check_shape(data) -> None:
    """Refuse, naming the field, anything but the documented shape (at load, not at first use)."""
    if not isinstance(data, dict):
        raise AccountsError("accounts: the file must hold a JSON object")
    for section, fields, key_fields in (
        ("organizations", _ORGANIZATION, _ORG_KEY),
        ("users", _USER, _USER_KEY),
    ):
        items = data.get(section, [])
        if not isinstance(items, list):
            raise AccountsError(f"accounts: {section} must be a list")
        for index, item in enumerate(items):
            _check_fields(item, fields, f"{section}[{index}]")
            for key_index, key in enumerate(item.get("api_keys", [])):
                _check_fields(key, key_fields, f"{section}[{index}].api_keys[{key_index}]")


@dataclass
class Accounts:
    organizations: dict[str, Organization]
    users: dict[str, User]

    @classmethod
    def from_dict(cls, data: dict) -> Accounts:
        check_shape(data)
        try:
            organizations = {
                org["globalid"]: Organization(
                    org["globalid"],
                    tuple(
                        OrgApiKey(
                            key.get("label", ""),
                            key["secret"],
                            bool(key.get("client_credentials", True)),
                            key.get("callback_url", ""),
                        )
                        for key in org.get("api_keys", [])
                    ),
                )
                for org in data.get("organizations", [])
            }
            users = {
                user["username"]: User(
                    user["username"],
                    user.get("password", ""),
                    tuple(user.get("memberof", [])),
                    tuple(
                        UserApiKey(key["applicationid"], key["secret"], key.get("label", ""))
                        for key in user.get("api_keys", [])
                    ),
                )
                for user in data.get("users", [])
            }
        except (KeyError, TypeError, AttributeError) as exc:
            raise AccountsError(f"accounts: missing or malformed field {exc}") from None
        return cls(organizations, users)

    @classmethod
    def load(cls, path: str | Path) -> Accounts:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise AccountsError(f"accounts file {path}: {type(exc).__name__}: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def demo(cls) -> Accounts:
        """The built-in demo accounts (see `DEMO` for the credentials)."""
        return cls.from_dict(DEMO)

    def org_key(self, client_id: str, secret: str) -> OrgApiKey | None:
        org = self.organizations.get(client_id)
        for key in org.api_keys if org else ():
            if _same(key.secret, secret):
                return key
        return None

    def user_key(self, applicationid: str, secret: str) -> User | None:
        for user in self.users.values():
            for key in user.api_keys:
                if key.applicationid == applicationid and _same(key.secret, secret):
                    return user
        return None

    def check_password(self, username: str, password: str) -> bool:
        user = self.users.get(username)
        return bool(user and user.password and _same(user.password, password))

    def is_member(self, username: str, globalid: str) -> bool:
        user = self.users.get(username)
        return bool(user and globalid in user.memberof)

    def callback_urls(self, client_id: str) -> list[str]:
        org = self.organizations.get(client_id)
        return [key.callback_url for key in (org.api_keys if org else ()) if key.callback_url]


#: Demo credentials: public on purpose, for demos, training and tests only.
DEMO: dict[str, list[dict[str, Any]]] = {  # in the accounts file's shape (this module's docstring)
    "organizations": [
        {
            "globalid": DEMO_ORGANIZATION,
            "api_keys": [
                {
                    "label": "notebook",
                    "secret": "demo-org-secret-5u8Qk2",
                    "client_credentials": True,
                    "callback_url": DEMO_CALLBACK_URL,
                },
                {
                    "label": "browser-only",
                    "secret": "demo-browser-secret-Zr41mx",
                    "client_credentials": False,
                    "callback_url": DEMO_CALLBACK_URL,
                },
            ],
        },
        {"globalid": "other-org", "api_keys": []},
    ],
    "users": [
        {
            "username": "alice",
            "password": "alice-demo-password-R7w",
            "memberof": [DEMO_ORGANIZATION],
            "api_keys": [{"applicationid": "alice-notebook", "secret": "alice-api-secret-Hq93Lp", "label": "notebook"}],
        },
        {
            "username": "bob",
            "password": "bob-demo-password-K2d",
            "memberof": ["other-org"],
            "api_keys": [{"applicationid": "bob-notebook", "secret": "bob-api-secret-Xv07Ta", "label": "notebook"}],
        },
    ],
}


def demo_passwords(accounts: Accounts) -> list[tuple[str, str]]:
    """The built-in demo users these accounts hold, with their public demo passwords (so a
    visitor of a demo, on Binder say, can log in); none for accounts of your own."""
    found = []
    for user in DEMO["users"]:
        known = accounts.users.get(user["username"])
        if known is not None and _same(known.password, user["password"]):
            found.append((user["username"], user["password"]))
    return found


def demo_api_key(username: str) -> tuple[str, str]:
    """(applicationid, secret) of a demo user's API key, for training notebooks."""
    for user in DEMO["users"]:
        if user["username"] == username:
            key = user["api_keys"][0]
            return key["applicationid"], key["secret"]
    raise ValueError(f"no demo user {username!r}")
