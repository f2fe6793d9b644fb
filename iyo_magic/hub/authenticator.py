"""`IyoOAuthenticator`: the hub logs its users in with ItsYou.online (``hub_login=True``).

oauthenticator's `GenericOAuthenticator` does the Authorization Code flow, in the hub, with the
class's secret. What ItsYou.online needs on top:

* the username comes with the token answer (``info.username``): no user-info request;
* scopes are comma-separated both ways (ItsYou.online splits ``scope`` on commas only);
* members only: ItsYou.online drops ``user:memberof:ORG`` silently for someone who is not a
  member, so a login whose granted scopes lack it is refused;
* the user's server gets the user's own refreshable JWT (asked with the access token, no secret),
  refreshed by the hub before each spawn (`refresh_user`), in ``$IYO_HUB_JWT``
  (`hand_jwt_to_server`, a ``Spawner.auth_state_hook``).
"""

from __future__ import annotations

import time
from inspect import isawaitable
from urllib.parse import urlencode

from oauthenticator.generic import GenericOAuthenticator
from oauthenticator.oauth2 import OAuthCallbackHandler
from tornado import web
from tornado.httpclient import HTTPClientError
from traitlets import Unicode, default

from ..errors import OAuthError
from ..oauth.protocol import ACCESS_TOKEN_SCHEME, JWT_PATH, JWT_REFRESH_PATH, JWT_SCHEME, OFFLINE_ACCESS
from ..settings import HUB_JWT_ENV
from ..tokens import JWT

#: Where the JWT is kept in the user's auth state (encrypted by the hub).
JWT_KEY = "iyo_jwt"


def _memberof(organization: str) -> str:
    return f"user:memberof:{organization}"


#: How long a used or refused ``state`` is remembered (a code lives 10 s; the hub's state cookie 10 min).
SPENT_STATE_MEMORY = 900.0


class OneUseCallback(OAuthCallbackHandler):
    """The hub's ``oauth_callback``, where each ``state`` counts once: a callback whose state was
    used, or refused in a browser without its cookie, is refused ever after. Otherwise someone
    who reads where a classmate's browser was sent (the code, for *their* state) could replay it in
    their own browser, whose cookie matches, and be logged in as the classmate."""

    spent: dict[str, float] = {}

    def check_state(self) -> None:
        state = self.get_argument("state", "")
        now = time.monotonic()
        for old in [s for s, at in self.spent.items() if now - at > SPENT_STATE_MEMORY]:
            del self.spent[old]
        if state in self.spent:
            raise web.HTTPError(400, "this login link was used already: log in again")
        self.spent[state] = now
        super().check_state()


class IyoOAuthenticator(GenericOAuthenticator):
    """Log hub users in with ItsYou.online; members of ``organization`` only."""

    callback_handler = OneUseCallback

    login_service = Unicode("ItsYou.online", config=True)

    organization = Unicode(config=True, help="The ItsYou.online organization of the class (its client id).")
    iyo_url = Unicode(
        config=True,
        help="ItsYou.online as the hub reaches it (token and JWT requests), e.g. https://itsyou.online.",
    )
    browser_iyo_url = Unicode(
        config=True,
        help="ItsYou.online as users' browsers reach it (the login page); default: iyo_url.",
    )

    @default("browser_iyo_url")
    def _default_browser_iyo_url(self) -> str:
        return self.iyo_url

    @default("authorize_url")
    def _default_authorize(self) -> str:
        return self.browser_iyo_url.rstrip("/") + "/v1/oauth/authorize"

    @default("token_url")
    def _default_token(self) -> str:
        return self.iyo_url.rstrip("/") + "/v1/oauth/access_token"

    @default("client_id")
    def _default_client(self) -> str:
        return self.organization

    @default("scope")
    def _default_scope(self) -> list[str]:
        return [_memberof(self.organization)]  # one item: tornado joins a list with spaces

    @default("username_claim")
    def _default_username_claim(self) -> str:
        return "username"

    @default("enable_auth_state")
    def _default_auth_state(self) -> bool:
        return True

    @default("allowed_scopes")
    def _default_allowed(self) -> list[str]:
        return [_memberof(self.organization)]

    @default("enable_pkce")
    def _default_pkce(self) -> bool:
        return False  # ItsYou.online ignores it

    async def token_to_user(self, token_info: dict) -> dict:
        """ItsYou.online names the user in the token answer itself."""
        info = token_info.get("info")
        if not isinstance(info, dict) or not info.get("username"):
            raise ValueError("ItsYou.online's token answer names no user (info.username)")
        return info

    async def build_auth_state_dict(self, token_info: dict, user_info: dict) -> dict:
        state = super().build_auth_state_dict(token_info, user_info)
        if isawaitable(state):  # it may be async from oauthenticator 17 on
            state = await state
        state["scope"] = [s for s in str(token_info.get("scope", "")).split(",") if s]
        state[JWT_KEY] = await self._jwt_for(token_info["access_token"])
        return state

    async def _jwt_for(self, access_token: str) -> str:
        """The user's refreshable JWT for the class, asked with their access token (no secret)."""
        query = urlencode({"scope": f"{_memberof(self.organization)},{OFFLINE_ACCESS}"})
        return await self._ask(f"{JWT_PATH}?{query}", ACCESS_TOKEN_SCHEME, access_token, "the user's JWT")

    async def _ask(self, path: str, scheme: str, token: str, what: str) -> str:
        """``GET path`` at ItsYou.online with ``Authorization: scheme token``: the JWT it answers."""
        answer = await self.httpfetch(
            f"{self.iyo_url.rstrip('/')}{path}",
            f"asking ItsYou.online for {what}",
            parse_json=False,
            method="GET",
            headers={"Authorization": f"{scheme} {token}"},
            validate_cert=self.validate_server_cert,
        )
        return answer.body.decode().strip()

    async def refresh_user(self, user, handler=None, **kwargs):
        """Renew the user's JWT (the hub calls this before each spawn, and every
        ``auth_refresh_age``): True while it stays good, False when ItsYou.online says the
        login is no good any more (the user logs in again)."""
        state = await user.get_auth_state()
        jwt = (state or {}).get(JWT_KEY)
        if not jwt:
            return False
        try:
            state[JWT_KEY] = await self._ask(JWT_REFRESH_PATH, JWT_SCHEME, jwt, "the user's refreshed JWT")
        except HTTPClientError as error:
            if error.code in (400, 401, 403):
                return False  # a definite no: log in again
            return _still_good(jwt)  # ItsYou.online failed (5xx, no answer): keep it while valid
        return {"name": user.name, "auth_state": state}


def _still_good(jwt: str) -> bool:
    """Whether the JWT has a minute left (read unverified: the hub got it from ItsYou.online)."""
    try:
        return JWT(jwt).expires_in > 60
    except OAuthError:
        return False


def hand_jwt_to_server(spawner, auth_state: dict | None) -> None:
    """``Spawner.auth_state_hook``: the user's server gets the user's own JWT, nothing else of
    the auth state (no access token, no secret)."""
    jwt = (auth_state or {}).get(JWT_KEY)
    environment = dict(spawner.environment)  # a copy: the configured dict is every user's
    environment.pop(HUB_JWT_ENV, None)
    if jwt:
        environment[HUB_JWT_ENV] = jwt
    spawner.environment = environment
