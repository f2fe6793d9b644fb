"""The JWT rules of each Cockpit generation, as facts: which claims let a JWT through, and the
text of each 401. The Cockpit stand-in checks JWTs by them (``iyo-magic serve --cockpit-rules``)
and `CockpitSession` explains a 401 by them, so a new generation is one entry in `GENERATIONS`.

Sources (docs/protocol.md, "The Cockpit"): g8cockpit's ``ays_api/app.py`` ``process_jwt_token``
and ays9's ``JumpScale9AYS/ays/server/oauth2_itsyouonline.py`` ``check_token``; both decode with
python-jose, whose messages follow ``JWT Error:``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: How a claim's rule and its advice name the Cockpit's organization.
ORG = "ORG"


@dataclass(frozen=True)
class Claim:
    """A way through: a claim of the JWT that names the Cockpit's organization."""

    name: str
    #: What the claim must be, or (``contains``) hold; ``{org}`` stands for the organization.
    value: str
    #: How a 401's advice asks for a JWT with it.
    advice: str
    contains: bool = False

    def admits(self, claims: Mapping[str, object], organization: str) -> bool:
        """Whether a JWT's ``claims`` name ``organization`` this way."""
        wanted = self.value.format(org=organization)
        found = claims.get(self.name)
        if self.contains:
            # The Cockpits test ``in``: an element of a list (a string would match a substring).
            return isinstance(found, (list, str)) and wanted in found
        return found == wanted

    def __str__(self) -> str:
        wanted = self.value.format(org=ORG)
        return f"{wanted} in {self.name}" if self.contains else f"{self.name} == {wanted}"


GLOBALID = Claim("globalid", "{org}", "globalid=ORG (an organization JWT)")
MEMBER_OF = Claim(
    "scope", "user:memberof:{org}", "scope user:memberof:ORG (a user JWT, --scope user:memberof:ORG)", contains=True
)
AZP = Claim("azp", "{org}", "azp=ORG (a JWT its organization's API key asked for)")


@dataclass(frozen=True)
class Generation:
    """One Cockpit's rules: the claims it accepts, in the order it tries them, and its 401 texts
    (g8cockpit's unless told otherwise). Each 401 is the text alone; ``{}`` is a detail."""

    name: str
    accepts: tuple[Claim, ...]
    #: Flask's make_response(str) answers text/html; Sanic's text() answers text/plain.
    content_type: str = "text/html; charset=utf-8"
    #: Neither the ``jwt`` cookie nor the Authorization header.
    no_jwt: str = "Not JWT token"
    #: A credential without a space between scheme and JWT.
    malformed: str = "Unauthorized"
    not_bearer: str = "Your JWT is invalid"
    expired: str = "Your JWT has expired"
    bad_audience: str = "JWT Error: Invalid audience"
    bad_issuer: str = "JWT Error: Invalid issuer"
    bad_signature: str = "JWT Error: Signature verification failed."
    #: Any other refusal of the JWT library, with its message.
    jwt_error: str = "JWT Error: {}"
    unexpected: str = "Unexpected error : {}"
    #: A valid JWT with none of the claims it accepts.
    not_admitted: str = "Unauthorized"

    def admits(self, claims: Mapping[str, object], organization: str) -> bool:
        """Whether one of the claims it accepts lets a JWT's ``claims`` through."""
        return any(claim.admits(claims, organization) for claim in self.accepts)


#: The Cockpit generations by name.
GENERATIONS = {
    generation.name: generation
    for generation in (
        Generation("g8cockpit", (GLOBALID, MEMBER_OF)),
        Generation("ays9", (GLOBALID, MEMBER_OF, AZP), content_type="text/plain; charset=utf-8", no_jwt="No JWT token"),
    )
}

#: The stand-in's generation unless told otherwise.
DEFAULT = "g8cockpit"


def accepted_everywhere() -> tuple[Claim, ...]:
    """The claims every generation accepts: a JWT with one passes whichever Cockpit it meets."""
    first, *others = GENERATIONS.values()
    return tuple(claim for claim in first.accepts if all(claim in other.accepts for other in others))
