"""`TokenVariables`: the notebook variables a login fills (``<prefix>_access_token``, ``_jwt``,
``_auth``, ``_cockpit``) and the last result per prefix (for identical calls and ``--status``).

Every front end of one notebook shares one (see ``notebook.login_path``), so ``%iyo_token --status``
shows what the form obtained and the other way round.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..durations import describe_remaining

if TYPE_CHECKING:
    from ..login_flow import LoginResult
    from ..tokens import JWT

SUFFIXES = ("access_token", "jwt", "auth", "cockpit")


class TokenVariables:
    def __init__(self, namespace: dict) -> None:
        self.namespace = namespace
        self.results: dict[str, LoginResult] = {}

    def put(self, prefix: str, result: LoginResult) -> list[str]:
        """Replace what ``prefix`` held by ``result``; return the variable names set."""
        self.clear(prefix)
        self.results[prefix] = result
        values = self._values(prefix, result)
        self.namespace.update(values)
        return list(values)

    def restore(self, prefix: str) -> list[str]:
        """Put back the variables of ``prefix``'s result that are gone or were replaced (after
        ``%reset`` or ``del``); return their names."""
        result = self.results.get(prefix)
        if result is None:
            return []
        missing = {
            name: value for name, value in self._values(prefix, result).items() if self.namespace.get(name) is not value
        }
        self.namespace.update(missing)
        return list(missing)

    def renewed(self, prefix: str, jwt: JWT) -> None:
        """Keep ``<prefix>_jwt`` current when an `IyoAuth` renews, if it is ``prefix``'s."""
        result = self.results.get(prefix)
        if result is not None and result.auth is not None and result.auth.jwt is jwt:
            result.jwt = jwt
            self.namespace[f"{prefix}_jwt"] = jwt

    def clear(self, prefix: str) -> list[str]:
        """Forget ``prefix``; return the variable names removed."""
        self.results.pop(prefix, None)
        removed = [f"{prefix}_{s}" for s in SUFFIXES if f"{prefix}_{s}" in self.namespace]
        for name in removed:
            del self.namespace[name]
        return removed

    def status_lines(self, prefix: str) -> list[str]:
        result = self.results.get(prefix)
        if result is None:
            return [f"nothing stored under {prefix}_*; log in first"]
        lines = [f"{prefix}_access_token: {result.access_token!r}"] if result.access_token is not None else []
        if result.auth is not None:
            lines.append(f"{prefix}_jwt: {result.auth.jwt!r}")
            lines.append(f"{prefix}_auth: renewed {result.auth.renewals} times")
        if result.source:
            lines.append(f"login from {result.source} (no client secret in this kernel)")
        if result.remembered_in is not None:
            lines.append(f"remembered in {result.remembered_in}")
            if result.remembered_in.plain:
                from ..oauth.protocol import REFRESH_TOKEN_IDLE_DAYS

                lines.append(
                    "  warning: a plain file: whoever can read it (root, backups, a hub's administrators) can "
                    f"refresh the JWT for up to {REFRESH_TOKEN_IDLE_DAYS} days; --logout deletes it"
                )
        return lines

    @staticmethod
    def _values(prefix: str, result: LoginResult) -> dict:
        values = {
            f"{prefix}_access_token": result.access_token,
            f"{prefix}_jwt": result.auth.jwt if result.auth is not None else None,
            f"{prefix}_auth": result.auth,
            f"{prefix}_cockpit": result.cockpit,
        }
        return {name: value for name, value in values.items() if value is not None}


def variable_names(result: LoginResult, prefix: str) -> list[str]:
    return list(TokenVariables._values(prefix, result))


def summary(result: LoginResult, prefix: str) -> str:
    """One line: who, scopes, expiry, and the variables to use next. No token value."""
    token = result.jwt or result.access_token
    if token is None:  # every login returns one of them
        raise ValueError("summary: the login result holds no token")
    parts = [token.identity, f"scope {','.join(token.scope) or '-'}"]
    if result.jwt is not None:
        jwt = result.jwt
        if jwt.audience:
            parts.append(f"aud {','.join(jwt.audience)}")
        parts.append(f"JWT expires {describe_remaining(jwt.expires_in)}")
        parts.append("refreshable" if jwt.refreshable else "renewed by new login")
        parts.append("signature verified" if jwt.verified else f"signature NOT verified ({jwt.verify_note})")
        if jwt.clock_note:
            parts.append(jwt.clock_note)
        if result.source:
            parts.append(f"from {result.source}")
        if result.resumed:
            parts.append("remembered JWT refreshed: no login")
        elif result.remembered_in is not None:
            parts.append("remembered")
    else:
        parts.append(f"access token expires {describe_remaining(token.expires_in)}")
    return f"iyo: {' · '.join(parts)} → {', '.join(variable_names(result, prefix))}"
