"""`%iyo_token -f code` in a real kernel: the link, the browser, the listener, the masked paste."""

from __future__ import annotations

import os
import re

import pytest

from iyo_magic.server.demo_user import DemoUser

from .conftest import ALICE, ORG, ORG_SECRET, free_port
from .kernel import Kernel, text_of

pytestmark = pytest.mark.kernel
LINK = re.compile(r"http://127\.0\.0\.1:\d+/v1/oauth/authorize\?\S+")


@pytest.fixture(scope="module")
def kernel(code_standins):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IYO_")}
    env.update(code_standins.environment(), IYO_CLIENT_ID=ORG, IYO_CLIENT_SECRET=ORG_SECRET)
    kernel = Kernel(env)
    kernel.run("%load_ext iyo_magic")
    yield kernel
    kernel.close()


def link_in(data: dict) -> str | None:
    found = LINK.search(data.get("text/plain", ""))
    return found.group(0) if found else None


def secrets_of(code_standins) -> list[str]:
    issued = [t.token for t in code_standins.iyo.state.access_tokens.values()]
    codes = list(code_standins.iyo.state.codes)
    states = [g.state for g in code_standins.iyo.state.codes.values()]
    return [ORG_SECRET, ALICE["password"], *issued, *codes, *states]


def test_listener_flow_in_a_kernel(kernel, code_standins):
    port = free_port()
    browser = DemoUser("alice", ALICE["password"])
    links = []

    def on_display(data):
        if link_in(data):
            links.append(link_in(data))
            browser.open(links[-1])

    outputs = kernel.run(
        f"%iyo_token -f code --scope user:memberof:{ORG} --redirect-uri http://127.0.0.1:{port}/callback "
        "--no-browser --wait 20",
        on_display=on_display,
    )
    text = text_of(outputs)
    assert "iyo: alice · scope user:memberof:cockpit-demo" in text, text
    assert links and "Log in at ItsYou.online" not in text  # the link was withdrawn
    for value in secrets_of(code_standins):
        assert value not in text
    assert "state=" not in text and "code=" not in text
    check = text_of(kernel.run("print(iyo_jwt.username, iyo_cockpit.get('/ays/repository').status_code)"))
    assert check.strip() == "alice 200"


def test_paste_flow_in_a_kernel_with_a_masked_prompt(kernel, code_standins):
    links = []

    def on_display(data):
        if link_in(data):
            links.append(link_in(data))

    def on_prompt(content):
        browser = DemoUser("alice", ALICE["password"], follow=False)
        browser.visit(links[-1])
        return browser.landed_on

    outputs = kernel.run(
        f"%iyo_token -f code --scope user:memberof:{ORG} --paste -o pasted --fresh",
        on_display=on_display,
        on_prompt=on_prompt,
    )
    text = text_of(outputs)
    assert "iyo: alice" in text and "pasted_jwt" in text, text
    assert kernel.prompts[-1]["password"] is True  # masked: the pasted text is not echoed
    assert "code=" not in text and "state=" not in text


def test_forged_paste_in_a_kernel(kernel):
    outputs = kernel.run(
        f"%iyo_token -f code --scope user:memberof:{ORG} --paste -o forged",
        on_prompt=lambda content: "http://127.0.0.1:8976/callback?code=abc&state=forged",
    )
    text = text_of(outputs)
    assert "UsageError" in text and "use the newest link" in text and "abc" not in text
    assert "forged" not in text.replace("-o forged", "").replace("forged_", "")


def test_secret_on_the_line_is_taken_out_of_the_cell(kernel):
    outputs = kernel.run(f"%iyo_token --client-secret {ORG_SECRET}")
    assert ORG_SECRET not in text_of(outputs)
    payload = [p for p in kernel.reply["payload"] if p["source"] == "set_next_input"]
    assert payload and payload[0]["replace"] is True
    assert payload[0]["text"] == "%iyo_token --client-secret <removed>"


def test_no_prompt_in_a_kernel_without_stdin_fails_at_once(kernel):
    import time

    started = time.monotonic()
    outputs = kernel.run("%iyo_token --secret-env IYO_NOT_SET_ANYWHERE -o nostdin")
    assert "this front end cannot answer a prompt" in text_of(outputs)
    assert time.monotonic() - started < 5


def test_the_stop_button_interrupts_the_wait(kernel):
    import socket
    import time

    port = free_port()

    def on_display(data):
        if link_in(data):
            kernel.manager.interrupt_kernel()  # what the stop button does

    started = time.monotonic()
    outputs = kernel.run(
        f"%iyo_token -f code --redirect-uri http://127.0.0.1:{port}/callback --no-browser --wait 60 -o stopped",
        on_display=on_display,
        timeout=30,
    )
    assert "UsageError: %iyo_token: interrupted; nothing was stored" in text_of(outputs)
    assert "Traceback" not in text_of(outputs) and time.monotonic() - started < 15
    assert "login link removed" in text_of(outputs)  # the link (and its state) was withdrawn
    with socket.socket() as s:  # and the port let go
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
