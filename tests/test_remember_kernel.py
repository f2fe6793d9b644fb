"""`--remember` across a real kernel restart (jupyter_client): log in in the browser, restart,
and the same line gets a verified JWT with one request, a refresh, and no browser; after
`--logout` the same line runs the browser flow again."""

from __future__ import annotations

import os

import pytest

from iyo_magic.server.demo_user import DemoUser

from .conftest import ALICE, ORG, ORG_SECRET, free_port
from .kernel import Kernel, text_of
from .test_code_flow_magic import link_in

pytestmark = pytest.mark.kernel


def test_a_remembered_login_survives_a_kernel_restart(code_standins, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IYO_")}
    env.update(code_standins.environment(), IYO_CLIENT_ID=ORG, IYO_CLIENT_SECRET=ORG_SECRET)
    env["IYO_STATE_DIR"] = str(tmp_path / "state")
    port = free_port()
    line = (
        f"%iyo_token -f code --scope user:memberof:{ORG} --remember --no-browser --wait 20 "
        f"--redirect-uri http://127.0.0.1:{port}/callback"
    )
    links: list[str] = []

    def browser_logs_in(data):
        if link_in(data):
            links.append(link_in(data))
            DemoUser("alice", ALICE["password"]).open(links[-1])

    kernel = Kernel(env)
    try:
        kernel.run("%load_ext iyo_magic")
        assert "iyo: alice" in text_of(kernel.run(line, on_display=browser_logs_in)) and len(links) == 1

        kernel.manager.restart_kernel(now=True)
        kernel.client.wait_for_ready(timeout=60)
        kernel.run("%load_ext iyo_magic\nimport os\nsecret = os.environ.pop('IYO_CLIENT_SECRET')")
        code_standins.iyo.hits.clear()
        text = text_of(kernel.run(line, on_display=browser_logs_in))
        assert "iyo: alice" in text and "signature verified · remembered JWT refreshed: no login" in text, text
        assert len(links) == 1 and dict(code_standins.iyo.hits) == {"refresh": 1}  # no browser, one request
        check = text_of(kernel.run("print(iyo_jwt.username, iyo_cockpit.get('/ays/repository').status_code)"))
        assert check.strip() == "alice 200"

        assert "deleted the remembered JWT" in text_of(kernel.run("%iyo_token --logout"))
        kernel.run("os.environ['IYO_CLIENT_SECRET'] = secret")
        text = text_of(kernel.run(line, on_display=browser_logs_in))
        assert "iyo: alice" in text and "refreshed: no login" not in text and len(links) == 2  # the browser again
    finally:
        kernel.close()
