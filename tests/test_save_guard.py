"""The leak audit's promise for a user's own mistake: a notebook whose cells reveal the JWT (a
print, a value, HTML, a traceback, a widget) is run in a real kernel against the stand-in and
saved through a real Jupyter server's contents API; the saved file holds no JWT. Saved through a
server with the guard turned off, `iyo-magic scan` finds each one."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbclient
import nbformat
import pytest
import requests

from iyo_magic.tokens import JWT_SHAPE

from .conftest import ALICE_APP, ALICE_SECRET, free_port

pytest.importorskip("jupyter_server")
pytestmark = pytest.mark.kernel
TOKEN = "test-server-token-Guard-8"

CELLS = [
    "%load_ext iyo_magic",
    "%iyo_token",
    "print(iyo_jwt.reveal())",  # a stream
    "iyo_jwt.reveal()",  # text/plain
    "from IPython.display import HTML\nHTML(f'<code>{iyo_jwt.reveal()}</code>')",  # text/html
    "raise RuntimeError(iyo_jwt.reveal())",  # an error's value and traceback
    "import ipywidgets\nipywidgets.Text(value=iyo_jwt.reveal())",  # widget state
    "import os\nprint('the secret is', os.environ['IYO_CLIENT_SECRET'])",
    "print('nothing to hide')",
]


def start_server(home: Path, **env: str) -> dict:
    """A Jupyter server with the extension enabled as installed, the client secret in its environment."""
    port = free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("IYO_", "JUPYTER"))},
        "HOME": str(home),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "IYO_CLIENT_SECRET": ALICE_SECRET,
        **env,
    }
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={home}",
    ]
    log = (home / "server.log").open("w")
    process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(300):
        try:
            if requests.get(f"{url}api/status", params={"token": TOKEN}, timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    else:
        process.kill()
        raise AssertionError((home / "server.log").read_text()[-3000:])
    return {"url": url, "home": home, "log": home / "server.log", "process": process, "log_file": log}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    guarded = start_server(tmp_path_factory.mktemp("guarded"))
    unguarded = start_server(tmp_path_factory.mktemp("unguarded"), IYO_SAVE_GUARD="off")
    yield guarded, unguarded
    for server in (guarded, unguarded):
        server["process"].terminate()
        server["process"].wait(timeout=20)
        server["log_file"].close()


@pytest.fixture(scope="module")
def revealed(standins, tmp_path_factory):
    """The notebook, run in a real kernel (widget state stored, as JupyterLab saves it), and its JWT."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IYO_")},
        **standins.environment(),
        "IYO_CLIENT_ID": ALICE_APP,
        "IYO_CLIENT_SECRET": ALICE_SECRET,
        "IYO_STATE_DIR": str(tmp_path_factory.mktemp("state")),
        "IPYTHONDIR": str(tmp_path_factory.mktemp("ipython")),
    }
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", allow_errors=True, store_widget_state=True
    )
    client.execute(env=env)
    (jwt,) = set(re.findall(JWT_SHAPE, notebook.cells[2].outputs[0]["text"]))
    return notebook, jwt


def save(server: dict, name: str, notebook) -> Path:
    answer = requests.put(
        f"{server['url']}api/contents/{name}",
        json={"type": "notebook", "format": "json", "content": json.loads(nbformat.writes(notebook))},
        headers={"Authorization": f"token {TOKEN}"},
        timeout=30,
    )
    assert answer.status_code in (200, 201), answer.text
    return server["home"] / name


def test_the_notebook_really_reveals_the_jwt_everywhere(revealed):
    notebook, jwt = revealed
    text = nbformat.writes(notebook)
    assert text.count(jwt) >= 6  # stream, text/plain, text/html, evalue, traceback, widget state
    assert ALICE_SECRET in text


def test_a_saved_notebook_holds_no_jwt(servers, revealed):
    guarded, _ = servers
    notebook, jwt = revealed
    path = save(guarded, "revealed.ipynb", notebook)
    text = path.read_text()
    assert jwt not in text and re.findall(JWT_SHAPE, text) == []
    assert jwt.split(".")[1] not in text and jwt.split(".")[2] not in text
    assert ALICE_SECRET not in text and "«client secret removed by iyo_magic»" in text
    saved = nbformat.read(path, 4)
    nbformat.validate(saved)  # still a valid notebook
    outputs = [cell.outputs for cell in saved.cells]
    marker = "«JWT removed by iyo_magic: username alice, expires "
    assert outputs[2][0]["text"].startswith(marker)
    assert outputs[3][0]["data"]["text/plain"].startswith("'" + marker)
    assert outputs[4][0]["data"]["text/html"].startswith("<code>" + marker)
    assert outputs[5][0]["evalue"].startswith(marker) and jwt not in "".join(outputs[5][0]["traceback"])
    widget_state = json.dumps(saved.metadata["widgets"], ensure_ascii=False)
    assert marker in widget_state
    # What tells the user: the marker where the token was, the cell's metadata, one log line.
    assert saved.cells[2].metadata["iyo_magic"] == {"removed": ["JWT"]}
    assert saved.cells[7].metadata["iyo_magic"] == {"removed": ["IYO_CLIENT_SECRET value"]}
    assert "iyo_magic" not in saved.cells[8].metadata and outputs[8][0]["text"] == "nothing to hide\n"
    assert saved.cells[2].source == "print(iyo_jwt.reveal())"
    deadline = time.monotonic() + 5
    while "iyo_magic: removed" not in guarded["log"].read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = guarded["log"].read_text()
    (line,) = [line for line in log.splitlines() if "iyo_magic: removed" in line and "revealed.ipynb" in line]
    assert "removed 6 JWTs and 1 IYO_CLIENT_SECRET value from revealed.ipynb" in line
    assert "(cell 3, cell 4, cell 5, cell 6, cell 8, the widget state)" in line
    assert jwt not in log and jwt.split(".")[1] not in log and ALICE_SECRET not in log
    # Opened again (what the browser loads), the notebook shows the markers.
    opened = requests.get(
        f"{guarded['url']}api/contents/revealed.ipynb", headers={"Authorization": f"token {TOKEN}"}, timeout=30
    ).json()
    assert jwt not in json.dumps(opened) and marker in json.dumps(opened, ensure_ascii=False)


def test_saved_without_the_guard_the_scan_finds_each_jwt(servers, revealed, tmp_path):
    _, unguarded = servers
    notebook, jwt = revealed
    path = save(unguarded, "unguarded.ipynb", notebook)
    assert jwt in path.read_text()  # the guard is off: saved as the front end sent it
    assert "iyo_magic: the save guard is off" in unguarded["log"].read_text()
    env = {**os.environ, "IYO_CLIENT_SECRET": ALICE_SECRET}
    result = subprocess.run(
        [sys.executable, "-m", "iyo_magic.server.cli", "scan", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}:3:JWT in output",
        f"{path}:4:JWT in output",
        f"{path}:5:JWT in output",
        f"{path}:6:JWT in output",
        f"{path}:8:IYO_CLIENT_SECRET value in output",
        f"{path}:metadata:JWT in widget state",
    ]
    assert jwt not in result.stdout + result.stderr and ALICE_SECRET not in result.stdout + result.stderr


def test_the_guarded_copy_passes_the_scan(servers, revealed):
    guarded, _ = servers
    path = save(guarded, "rescanned.ipynb", revealed[0])
    result = subprocess.run(
        [sys.executable, "-m", "iyo_magic.server.cli", "scan", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "IYO_CLIENT_SECRET": ALICE_SECRET},
        timeout=60,
    )
    assert result.returncode == 0 and "nothing found in 1 file(s)" in result.stdout


@pytest.fixture(scope="module")
def jwt(standins) -> str:
    """A real JWT from the stand-in, as `iyo_jwt.reveal()` gives it."""
    from iyo_magic import LoginRequest, login

    request = LoginRequest(client_id=ALICE_APP, base_url=standins.iyo_url, public_key=standins.key.public_pem)
    return login(request, ALICE_SECRET).jwt.reveal()


def stream(text) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def code_cell(outputs: list, **fields) -> dict:
    return {"cell_type": "code", "id": os.urandom(4).hex(), "metadata": {}, "execution_count": 1, "source": "x"} | {
        "outputs": outputs,
        **fields,
    }


def notebook_of(*cells: dict, **metadata) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": list(cells)}


def save_json(server: dict, name: str, content: dict, kind: str = "notebook") -> Path:
    answer = requests.put(
        f"{server['url']}api/contents/{name}",
        json={"type": kind, "format": "json" if kind == "notebook" else "text", "content": content},
        headers={"Authorization": f"token {TOKEN}"},
        timeout=30,
    )
    assert answer.status_code in (200, 201), answer.text
    return server["home"] / name


def strings_of(value) -> str:
    """Every string in a JSON value, joined, line breaks left out: what a reader could piece together."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "".join(strings_of(item) for item in value.values())
    if isinstance(value, list):
        return "".join(strings_of(item) for item in value)
    return ""


def assert_no_token(path: Path, *values: str) -> str:
    text = path.read_text()
    joined = strings_of(json.loads(text)).replace("\n", "").replace("\r", "") if path.suffix == ".ipynb" else text
    for value in values:
        for part in value.split(".")[-2:]:  # a JWT's claims and signature; a secret whole
            assert part not in text and part not in joined, path.name
    return text


def split_cases(jwt: str) -> dict:
    half = len(jwt) // 2
    return {
        "lines_of_one_output": notebook_of(code_cell([stream([jwt[:half] + "\n", jwt[half:] + "\n", "done\n"])])),
        "two_stream_outputs": notebook_of(code_cell([stream(jwt[:half]), stream(jwt[half:] + "\ndone\n")])),
        "a_newline_inside": notebook_of(code_cell([stream(jwt[:half] + "\n" + jwt[half:] + "\ndone\n")])),
        "the_secret_over_lines": notebook_of(code_cell([stream([ALICE_SECRET[:5] + "\n", ALICE_SECRET[5:] + "\n"])])),
    }


@pytest.mark.parametrize(
    "case", ["lines_of_one_output", "two_stream_outputs", "a_newline_inside", "the_secret_over_lines"]
)
def test_a_token_split_over_lines_or_outputs_is_masked_and_the_lines_stay_lines(servers, jwt, case):
    guarded, _ = servers
    path = save_json(guarded, f"split-{case}.ipynb", split_cases(jwt)[case])
    assert_no_token(path, jwt, ALICE_SECRET)
    saved = nbformat.read(path, 4)
    nbformat.validate(saved)
    text = "".join(output["text"] for output in saved.cells[0].outputs)
    assert "removed by iyo_magic" in text and saved.cells[0].metadata["iyo_magic"]["removed"]
    if case != "the_secret_over_lines":
        assert text.endswith("\ndone\n")  # what follows the token is kept


def v3_notebook(jwt: str) -> dict:
    """An nbformat 3 notebook: cells in worksheets, a code cell's source in ``input``."""
    output = {"output_type": "stream", "stream": "stdout", "text": [jwt[:50] + "\n", jwt[50:] + " " + ALICE_SECRET]}
    cell = {"cell_type": "code", "collapsed": False, "input": "print(iyo_jwt.reveal())", "language": "python"}
    cell |= {"metadata": {}, "prompt_number": 1, "outputs": [output]}
    worksheets = [{"cells": [{"cell_type": "markdown", "metadata": {}, "source": "intro"}, cell], "metadata": {}}]
    return {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""}, "worksheets": worksheets}


def test_an_nbformat_3_notebook_is_guarded_too(servers, jwt):
    guarded, _ = servers
    path = save_json(guarded, "old-format.ipynb", v3_notebook(jwt))
    assert_no_token(path, jwt, ALICE_SECRET)
    saved = json.loads(path.read_text())
    assert saved["nbformat"] == 3
    (_, cell) = saved["worksheets"][0]["cells"]
    assert cell["metadata"]["iyo_magic"] == {"removed": ["IYO_CLIENT_SECRET value", "JWT"]}
    assert "".join(cell["input"]) == "print(iyo_jwt.reveal())" and "removed by iyo_magic" in "".join(
        cell["outputs"][0]["text"]
    )
    deadline = time.monotonic() + 5
    while "old-format.ipynb" not in guarded["log"].read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "removed 1 JWT and 1 IYO_CLIENT_SECRET value from old-format.ipynb before saving (cell 2)" in (
        guarded["log"].read_text()
    )


def test_attachments_cell_and_notebook_metadata_and_text_files_are_guarded_and_sources_left(servers, jwt):
    guarded, _ = servers
    markdown = {"cell_type": "markdown", "id": "m1", "metadata": {"note": jwt}, "source": f"token: {jwt}"}
    markdown["attachments"] = {"t.txt": {"text/plain": [jwt[:40] + "\n", jwt[40:]]}}
    content = notebook_of(markdown, code_cell([], metadata={"tok": ALICE_SECRET}), tok=jwt)
    path = save_json(guarded, "parts.ipynb", content)
    saved = json.loads(path.read_text())
    first, second = saved["cells"]
    assert "".join(first["source"]) == f"token: {jwt}"  # the user's code: left as it is (the scan reports it)
    for part in (first["attachments"], first["metadata"]["note"], saved["metadata"]["tok"]):
        assert jwt.split(".")[2] not in json.dumps(part) and "«JWT removed by iyo_magic" in json.dumps(
            part, ensure_ascii=False
        )
    assert first["metadata"]["iyo_magic"] == {"removed": ["JWT"]}
    assert second["metadata"] == {
        "tok": "«client secret removed by iyo_magic»",
        "iyo_magic": {"removed": ["IYO_CLIENT_SECRET value"]},
    }
    for name in ("notes.txt", "script.py"):
        path = save_json(guarded, name, f"TOKEN = '{jwt}'\nSECRET = '{ALICE_SECRET}'\nprint(TOKEN)\n", kind="file")
        text = assert_no_token(path, jwt, ALICE_SECRET)
        assert text.startswith("TOKEN = '«JWT removed by iyo_magic: username alice, expires ")
        assert text.endswith("'\nSECRET = '«client secret removed by iyo_magic»'\nprint(TOKEN)\n")
    deadline = time.monotonic() + 5
    while "script.py before saving" not in guarded["log"].read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = guarded["log"].read_text()
    assert (
        "removed 3 JWTs and 1 IYO_CLIENT_SECRET value from parts.ipynb before saving (cell 1, cell 2, the metadata)"
        in log
    )
    assert "removed 1 JWT and 1 IYO_CLIENT_SECRET value from script.py before saving (the file)" in log
    assert jwt.split(".")[2] not in log and ALICE_SECRET not in log


def encoded_cases(jwt: str) -> dict:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + jwt.encode() + bytes(600)).decode()
    html = {"output_type": "display_data", "metadata": {}, "data": {"text/html": "<b>" + jwt.replace(".", "&#46;")}}
    return {
        "html_entity_dots": notebook_of(code_cell([html])),
        "percent_escaped_dots": notebook_of(code_cell([stream("curl '?t=" + jwt.replace(".", "%2E") + "'\n")])),
        "json_escaped_dots": notebook_of(code_cell([stream(json.dumps(jwt).replace(".", "\\u002e"))])),
        "zero_width_inside": notebook_of(code_cell([stream(jwt[:20] + "\u200b" + jwt[20:])])),
        "base64_text": notebook_of(code_cell([stream(base64.b64encode(jwt.encode()).decode() + "\n")])),
        "base64url_text": notebook_of(code_cell([stream(base64.urlsafe_b64encode(jwt.encode()).decode())])),
        "base64_png": notebook_of(
            code_cell(
                [{"output_type": "display_data", "metadata": {}, "data": {"image/png": png, "text/plain": "img"}}]
            )
        ),
        "base64_secret": notebook_of(code_cell([stream(base64.b64encode(b"x:" + ALICE_SECRET.encode()).decode())])),
    }


@pytest.mark.parametrize("case", list(encoded_cases("a.b.c")))
def test_a_token_with_escaped_dots_zero_width_characters_or_in_base64_is_masked(servers, jwt, case):
    guarded, _ = servers
    path = save_json(guarded, f"encoded-{case}.ipynb", encoded_cases(jwt)[case])
    text = assert_no_token(path, jwt, ALICE_SECRET)
    for value in (jwt.encode(), b"x:" + ALICE_SECRET.encode()):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            assert encode(value).decode().rstrip("=")[8:60] not in text
    saved = nbformat.read(path, 4)
    assert saved.cells[0].metadata["iyo_magic"]["removed"] and "removed by iyo_magic" in text
