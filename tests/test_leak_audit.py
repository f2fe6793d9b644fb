"""The leak audit: every notebook and every magic path, run with DEBUG logging and IPython history
on and saved with widget state; then every channel is searched for every secret, password, access
token, refresh token, code, state and JWT that was used. Zero findings."""

from __future__ import annotations

import copy
import logging
import os
import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbclient
import nbformat
import pytest

from iyo_magic.server import Accounts, StandIns
from iyo_magic.server.accounts import DEMO

from .conftest import LoopbackApp, free_port

pytestmark = pytest.mark.kernel
ROOT = Path(__file__).resolve().parents[1]
JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*")
TYPED = "typed-secret-Audit-42"  # a secret a user types on the magic line by mistake
WRONG = "wrong-secret-Audit-77"
WRONG_IN_FORM = "wrong-form-secret-Audit-9"

AUDIT_CELLS = [
    "import logging, os\nlogging.basicConfig(filename=os.environ['AUDIT_LOG'], level=logging.DEBUG, force=True)",
    "%load_ext iyo_magic",
    "%logstart -o {logfile}",
    "%iyo_token --aud cockpit-demo",
    "iyo_jwt",
    "iyo_access_token",
    "iyo_auth",
    "iyo_cockpit",
    "print(iyo_jwt, iyo_access_token, iyo_auth, iyo_cockpit)\nprint('%s' % iyo_jwt)",
    "iyo_jwt._repr_html_()",
    "%whos",
    "%iyo_token --status",
    "%iyo_token --jwt-only -o one",
    "%iyo_token --no-jwt -o token_only",
    "%iyo_token --scope user:memberof:cockpit-demo -o refused",
    "wrong = os.environ['AUDIT_WRONG']\n%iyo_token --secret-var wrong -o bad --fresh",
    f"%iyo_token --client-secret {TYPED}",
    "from iyo_magic.server.demo_user import play_user\nuser = play_user('alice')\n"
    "%config IyoMagics.browser = 'iyo-demo-user'",
    "%iyo_token -f code --scope user:memberof:cockpit-demo --redirect-uri {redirect} -o browser",
    "user.thread.join(5)\nanswer = user.landed_on.split('?', 1)[1]\n"
    "print('listener page repeats the answer:', any(v in user.page for v in re.split('[=&]', answer) if len(v) > 8))",
    "%iyo_token --form -o formed",
    "import iyo_magic\nform = iyo_magic.LoginForm(prefix='formed')\n"
    "form.secret.value = os.environ['IYO_CLIENT_SECRET']  # what typing into the field does\n"
    "form.button.click(); form.wait(); form",
    "form2 = iyo_magic.LoginForm(prefix='formed2')\nform2.secret.value = os.environ['AUDIT_WRONG_FORM']\n"
    "form2.button.click(); form2.wait(); form2",
    "formed_cockpit.get('/ays/repository').status_code, iyo_cockpit.get('/ays/repository').status_code",
    # --remember: a login kept, resumed after what a restart leaves, shown, derived from; another logged out.
    "%iyo_token --remember --aud cockpit-demo -o kept",
    "%iyo_token --clear -o kept\n%iyo_token --remember --aud cockpit-demo -o kept",
    "%iyo_token --status -o kept",
    "browser_jwt.derive(aud='elsewhere', validity=600)",
    "%iyo_token --remember --aud cockpit-demo,other -o gone\n%iyo_token --logout -o gone",
    "%iyo_token --clear -o one",
    # Verbose tracebacks, values typed where a name belongs, Cockpit errors, second servers.
    "%xmode Verbose",
    "%iyo_token --secret-var typed-Secret-Audit-2 -o typed2",
    "%iyo_token --client-id typed-Secret-Audit-3 --secret-env NOT_SET_IN_AUDIT -o typed3",
    "%iyo_token --base-url {malformed} --fresh -o malformed",
    "iyo_cockpit.get('/ays/repository/nope')  # a CockpitError traceback, verbose",
    "from iyo_magic import CockpitError, CockpitSession\ntry:\n    iyo_cockpit.get('{second}/steal')\n"
    "except CockpitError as error:\n    print('refused:', error, error.args)",
    "try:\n    CockpitSession('{echo}/api', iyo_auth).get('/ays/repository')\nexcept CockpitError as error:\n"
    "    print('echoed:', error, error.args, error.body)",
    "try:\n    CockpitSession('{redirector}/api', iyo_auth).get('/ays/repository')\nexcept CockpitError as error:\n"
    "    print('redirected:', error, error.args)",
    "os.environ['HTTP_PROXY'] = os.environ['ALL_PROXY'] = '{second}'\n%iyo_token --fresh -o proxied\n"
    "print('through no proxy:', proxied_cockpit.get('/ays/repository').status_code)\n"
    "del os.environ['HTTP_PROXY'], os.environ['ALL_PROXY']",
    "%xmode Context",
    "%logstop",
    "needles = [os.environ['IYO_CLIENT_SECRET'], 'typed-secret-' + 'Audit-42', iyo_jwt.reveal(), "
    "iyo_access_token.reveal()]\nprint('in-memory history findings:', sum(n in cell for cell in In for n in needles))",
]


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    home = tmp_path_factory.mktemp("audit")
    accounts = copy.deepcopy(DEMO)
    accounts["organizations"][0]["api_keys"][0]["callback_url"] = "http://127.0.0.1:"
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    keep = Keep(level=logging.DEBUG)
    logging.getLogger().addHandler(keep)
    old_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    servers = StandIns(Accounts.from_dict(accounts))
    issued_jwts: list[str] = []
    sign = servers.iyo.sign
    servers.iyo.sign = lambda claims: issued_jwts.append(sign(claims)) or issued_jwts[-1]
    servers.start()
    second = LoopbackApp(Recorder())  # a proxy, a foreign origin, a redirect target: it must get nothing
    echo = LoopbackApp(echo_authorization)  # a Cockpit (or proxy) that echoes the request in its error
    redirector = LoopbackApp(redirect_to(second.url + "/redirected"))
    malformed = LoopbackApp(malformed_token_answer)
    saved_env = dict(os.environ)
    os.environ.update(servers.environment(with_demo_credentials=True))
    os.environ.update(
        IPYTHONDIR=str(home / "ipython"),
        AUDIT_LOG=str(home / "kernel.log"),
        AUDIT_WRONG=WRONG,
        AUDIT_WRONG_FORM=WRONG_IN_FORM,
        IYO_STATE_DIR=str(home / "state"),
    )
    try:
        audit_nb = nbformat.v4.new_notebook()
        audit_nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        redirect = f"http://127.0.0.1:{free_port()}/callback"
        places = {
            "{redirect}": redirect,
            "{logfile}": str(home / "logstart.py"),
            "{second}": second.url,
            "{echo}": echo.url,
            "{redirector}": redirector.url,
            "{malformed}": malformed.url,
        }
        sources = []
        for cell in AUDIT_CELLS:
            for place, value in places.items():
                cell = cell.replace(place, value)
            sources.append(cell)
        audit_nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
        audit_nb.cells[0].source = "import re\n" + audit_nb.cells[0].source
        notebooks = [("audit.ipynb", audit_nb)] + [
            (path.name, nbformat.read(path, 4)) for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
        ]

        def execute(name, notebook) -> str:
            client = nbclient.NotebookClient(
                notebook,
                timeout=120,
                kernel_name="python3",
                allow_errors=True,
                store_widget_state=True,  # as nbconvert --execute saves
                ipython_hist_file=str(home / f"history-{name}.sqlite"),
                resources={"metadata": {"path": str(ROOT / "notebooks")}},
            )
            client.execute()
            (home / name).write_text(nbformat.writes(notebook))
            return nbformat.writes(notebook)

        with ThreadPoolExecutor(3) as pool:  # kernels mostly wait: three at a time
            saved = dict(zip([n for n, _ in notebooks], pool.map(lambda item: execute(*item), notebooks)))
        state = servers.iyo.state
        forbidden = {
            "demo secret or password": [u["password"] for u in DEMO["users"]]
            + [k["secret"] for o in DEMO["organizations"] + DEMO["users"] for k in o["api_keys"]],
            "access token of a malformed answer": ["tok-Audit-Malformed-5"],
            "typed or wrong secret": [TYPED, WRONG, WRONG_IN_FORM, "typed-Secret-Audit-2", "typed-Secret-Audit-3"],
            "access token": list(state.access_tokens),
            "refresh token": list(state.refresh_tokens),
            "authorization code": list(state.codes),
            "state": [grant.state for grant in state.codes.values() if grant.state],
            "JWT": issued_jwts,
        }
        yield {
            "home": home,
            "issued": issued_jwts,
            "saved": saved,
            "records": records,
            "forbidden": forbidden,
            "audit": audit_nb,
            "second": second.app,
        }
    finally:
        for app in (second, echo, redirector, malformed):
            app.close()
        os.environ.clear()
        os.environ.update(saved_env)
        servers.stop()
        logging.getLogger().removeHandler(keep)
        logging.getLogger().setLevel(old_level)


class Recorder:
    """Records every request it gets, whole."""

    def __init__(self):
        self.requests: list[str] = []

    def __call__(self, environ, start_response):
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        self.requests.append(f"{request.method} {request.full_path} {dict(request.headers)} {request.get_data()!r}")
        return Response("not here", 401)(environ, start_response)


def echo_authorization(environ, start_response):
    from werkzeug.wrappers import Request, Response

    sent = Request(environ).headers.get("Authorization", "")
    body = f'{{"code": 400, "error": "bad token {sent}"}}'
    return Response(body, 400, content_type="application/json")(environ, start_response)


def redirect_to(location: str):
    from werkzeug.wrappers import Response

    return Response("", 302, headers={"Location": location})


def malformed_token_answer(environ, start_response):
    from werkzeug.wrappers import Response

    body = '{"access_token": "tok-Audit-Malformed-5", "expires_in": "soon"}'
    return Response(body, content_type="application/json")(environ, start_response)


def findings(text: str, forbidden: dict[str, list[str]], where: str) -> list[str]:
    found = [f"{kind} in {where}" for kind, values in forbidden.items() for v in values if v and v in text]
    if JWT.search(text):
        found.append(f"a JWT in {where}")
    return found


def channels(audit) -> dict[str, str]:
    """Every place a secret could have landed, as text."""
    home = audit["home"]
    found: dict[str, str] = {}
    for name, text in audit["saved"].items():
        notebook = nbformat.reads(text, 4)
        # Cell sources are what the user typed (a front end replaces the one with TYPED; nbclient
        # does not apply that payload): everything else of the file is searched.
        for cell in notebook.cells:
            cell.source = ""
        found[f"{name} (outputs and widget state)"] = nbformat.writes(notebook)
    for db in home.glob("history-*.sqlite"):
        with sqlite3.connect(db) as connection:
            rows = connection.execute("SELECT source, source_raw FROM history").fetchall()
            rows += connection.execute("SELECT output, '' FROM output_history").fetchall()
        found[f"history database {db.name}"] = "\n".join(f"{a}\n{b}" for a, b in rows)
    found["kernel DEBUG log"] = (home / "kernel.log").read_text() if (home / "kernel.log").exists() else ""
    found["%logstart file"] = (home / "logstart.py").read_text()
    found["requests that reached a second server"] = "\n".join(audit["second"].requests)
    for record in audit["records"]:
        if record.name == "traitlets":
            # nbclient's own DEBUG log of every message it exchanges with the kernel: the front
            # end's side (it receives the cells' code and the login link by design), not ours.
            continue
        key = f"log records of {record.name}"
        found[key] = found.get(key, "") + f"{record.getMessage()} {record.exc_text or ''}\n"
    return found


def test_zero_findings_in_every_channel(audit):
    searched = channels(audit)
    assert len(searched) >= 7 and any("history database" in k for k in searched)
    assert sum(len(v) for k, v in audit["forbidden"].items()) > 20
    all_findings = [f for where, text in searched.items() for f in findings(text, audit["forbidden"], where)]
    assert all_findings == [], "\n".join(all_findings)
    values = sum(len(v) for v in audit["forbidden"].values())
    print(f"\nleak audit: {len(searched)} channels, {values} values searched, 0 findings")


def test_the_audit_ran_every_path(audit):
    outputs = audit["saved"]["audit.ipynb"]
    for expected in (
        "iyo: cockpit-demo",
        "iyo: alice",
        "client id or secret rejected",
        "refused",
        "never goes on the line",
        "listener page repeats the answer: False",
        "in-memory history findings: 0",
        "(masked)",
        "iyo-card",
        "cleared one_jwt",
        "application/vnd.jupyter.widget-state+json",
        "Variable",
        "--secret-var NAME: the notebook has no variable of that name",
        "the token answer is malformed",
        "refused: iyo_cockpit calls only the Cockpit at",
        "echoed: Cockpit answered 400 to GET /api/ays/repository: bad token bearer <removed>",
        "redirected: Cockpit answered 401",
        "through no proxy: 200",
        "CockpitError",
        "remembered JWT refreshed: no login",
        "remembered in the file",
        "aud elsewhere, not refreshable",
        "deleted the remembered JWT",
    ):
        assert expected in outputs, expected
    assert "(200, 200)" in outputs
    assert "Traceback" in outputs and "UsageError" in outputs  # verbose tracebacks were shown and searched
    assert [r.split()[1] for r in audit["second"].requests] == ["/redirected?"]  # only the redirect, bare
    assert "Authorization" not in audit["second"].requests[0]
    assert "iyo_token" in (audit["home"] / "logstart.py").read_text()
    assert (audit["home"] / "kernel.log").read_text().count("DEBUG") > 5  # DEBUG logging was really on


def test_the_remembered_jwt_is_in_its_file_only_and_the_file_holds_it_alone(audit):
    kept = list((audit["home"] / "state").glob("*.jwt"))
    assert len(kept) == 1, kept  # "kept" stays; "gone" was logged out
    assert kept[0].read_text() in audit["issued"]  # the JWT, whole, and nothing else
    assert oct(kept[0].stat().st_mode & 0o777) == "0o600"
    # And nowhere else: every channel was searched for every issued JWT (test_zero_findings...).
