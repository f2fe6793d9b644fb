"""The stand-in's HTML login and consent pages (plain HTML forms, real labels)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.3rem} label{display:block;margin:.8rem 0 .2rem} input[type=text],
input[type=password]{width:100%;padding:.4rem;font-size:1rem;box-sizing:border-box}
button{margin:1rem .5rem 0 0;padding:.5rem 1rem;font-size:1rem} .error{color:#b00020}
.note{color:#666;font-size:.85rem} li{margin:.2rem 0}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}"
        "<p class=note>Local ItsYou.online stand-in (iyo_magic). Demo accounts only.</p>"
        "</body></html>"
    )


def _hidden(fields: dict[str, str]) -> str:
    return "".join(f'<input type=hidden name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items())


def login_page(
    query: dict[str, str], error: str = "", demo_users: Sequence[tuple[str, str]] = (), root: str = ""
) -> str:
    """The login form; with the built-in demo accounts, their (public) users and passwords too.
    ``root`` is the path the stand-in is served under (behind a JupyterHub proxy, say)."""
    problem = f"<p class=error role=alert>{escape(error)}</p>" if error else ""
    demo = "".join(f"<li><code>{escape(user)}</code> / <code>{escape(word)}</code></li>" for user, word in demo_users)
    if demo:
        demo = f"<p class=note>Demo users (public demo passwords):</p><ul class=note>{demo}</ul>"
    return _page(
        "Log in to ItsYou.online",
        f"""{problem}{demo}<form method=post action="{escape(root)}/login">{_hidden(query)}
<label for=username>Username</label><input type=text id=username name=username autocomplete=username autofocus>
<label for=password>Password</label><input type=password id=password name=password autocomplete=current-password>
<button type=submit>Log in</button></form>""",
    )


def consent_page(user: str, client_id: str, scopes: list[str], query: dict[str, str], root: str = "") -> str:
    items = "".join(f"<li><code>{escape(s)}</code></li>" for s in scopes) or "<li>your identity</li>"
    return _page(
        "Authorize application",
        f"""<p>Logged in as <strong>{escape(user)}</strong>.</p>
<p><strong>{escape(client_id)}</strong> asks to access:</p><ul>{items}</ul>
<form method=post action="{escape(root)}/authorize">{_hidden(query)}
<button type=submit name=decision value=authorize>Authorize</button>
<button type=submit name=decision value=decline>Decline</button></form>""",
    )
