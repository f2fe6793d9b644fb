"""Where results land: the notebook's variables ``<prefix>_access_token``, ``_jwt``, ``_auth``,
``_cockpit``, and the last result per prefix (for identical calls and ``--status``).

Both front ends (the magic and the form) store through one `TokenStore`, so ``%iyo_token
--status`` shows what the form obtained and the other way round.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .tokens import describe_remaining

if TYPE_CHECKING:
    from .usecase import LoginResult

SUFFIXES = ("access_token", "jwt", "auth", "cockpit")


class TokenStore:
    def __init__(self, namespace: dict) -> None:
        self.namespace = namespace
        self.results: dict[str, LoginResult] = {}

    def store(self, prefix: str, result: LoginResult) -> list[str]:
        """Replace what ``prefix`` held by ``result``; return the variable names set."""
        self.clear(prefix)
        self.results[prefix] = result
        values = {
            f"{prefix}_access_token": result.access_token,
            f"{prefix}_jwt": result.jwt,
            f"{prefix}_auth": result.auth,
        }
        if result.auth is not None and result.request.cockpit_url:
            from .cockpit import CockpitSession

            values[f"{prefix}_cockpit"] = CockpitSession(
                result.request.cockpit_url,
                result.auth,
                timeout=result.request.timeout,
                ca_bundle=result.request.ca_bundle,
            )
        values = {name: value for name, value in values.items() if value is not None}
        self.namespace.update(values)
        return list(values)

    def renewed(self, prefix: str, result: LoginResult, jwt) -> None:
        """Keep ``<prefix>_jwt`` current when `IyoAuth` renews, unless a newer login replaced it."""
        if self.results.get(prefix) is result:
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
            return [f"nothing stored under {prefix}_*; run %iyo_token first"]
        lines = [f"{prefix}_access_token: {result.access_token!r}"] if result.access_token is not None else []
        if result.auth is not None:
            lines.append(f"{prefix}_jwt: {result.auth.jwt!r}")
            lines.append(f"{prefix}_auth: renewed {result.auth.renewals} times")
        return lines


def variable_names(result: LoginResult, prefix: str) -> list[str]:
    names = [f"{prefix}_access_token"] if result.access_token is not None else []
    if result.jwt is not None:
        names += [f"{prefix}_jwt", f"{prefix}_auth"]
        if result.request.cockpit_url:
            names.append(f"{prefix}_cockpit")
    return names


def summary(result: LoginResult, prefix: str) -> str:
    """One line: who, scopes, expiry, and the variables to use next. No token value."""
    token = result.jwt or result.access_token
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
    else:
        parts.append(f"access token expires {describe_remaining(token.expires_in)}")
    return f"iyo: {' · '.join(parts)} → {', '.join(variable_names(result, prefix))}"
