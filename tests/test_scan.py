"""`iyo-magic scan PATH…` as a user or a pre-commit hook runs it: real JWTs from the stand-in in
notebooks and files, findings as file:cell:kind (file:line:kind), never the value."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from iyo_magic import LoginRequest, login

from .conftest import ALICE_APP, ALICE_SECRET

ROOT = Path(__file__).resolve().parents[1]
SECRET = "client-Secret-Scan-31"


@pytest.fixture(scope="module")
def jwt(standins) -> str:
    """A real JWT, as `iyo_jwt.reveal()` gives it."""
    request = LoginRequest(client_id=ALICE_APP, base_url=standins.iyo_url, public_key=standins.key.public_pem)
    return login(request, ALICE_SECRET).jwt.reveal()


def scan(*paths, cwd=None, secret=None):
    env = {k: v for k, v in os.environ.items() if k != "IYO_CLIENT_SECRET"}
    if secret is not None:
        env["IYO_CLIENT_SECRET"] = secret
    command = [sys.executable, "-m", "iyo_magic.server.cli", "scan", *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=60)


def leaky_notebook(jwt: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%iyo_token"),
        nbformat.v4.new_code_cell(
            "print(iyo_jwt.reveal())", outputs=[nbformat.v4.new_output("stream", name="stdout", text=jwt + "\n")]
        ),
        nbformat.v4.new_markdown_cell(f"curl -H 'Authorization: bearer {jwt}'"),
        nbformat.v4.new_code_cell("raise ValueError(iyo_jwt.reveal())"),
    ]
    notebook.cells[3].outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue=jwt, traceback=[jwt])]
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"w": {"value": jwt}}}}
    return notebook


def test_a_notebook_finding_is_file_cell_kind_and_never_the_value(tmp_path, jwt):
    path = tmp_path / "leaky.ipynb"
    nbformat.write(leaky_notebook(jwt), path)
    result = scan(path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        f"{path}:2:JWT in output",
        f"{path}:3:JWT in source",
        f"{path}:4:JWT in output",
        f"{path}:metadata:JWT in widget state",
    ]
    assert jwt not in result.stdout + result.stderr and jwt.split(".")[1] not in result.stdout + result.stderr


def test_plain_files_name_the_line_and_the_client_secret_is_found_when_set(tmp_path, jwt):
    (tmp_path / "notes.md").write_text(f"# notes\n\ntoken: {jwt}\nsecret: {SECRET}\n")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\0\0" + jwt.encode())  # binary: read all the same
    result = scan(tmp_path, secret=SECRET)
    assert result.returncode == 1
    notes = tmp_path / "notes.md"
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'image.png'}:1:JWT",
        f"{notes}:3:JWT",
        f"{notes}:4:IYO_CLIENT_SECRET value",
    ]
    assert SECRET not in result.stdout + result.stderr
    assert scan(tmp_path / "notes.md").stdout.splitlines() == [f"{notes}:3:JWT"]  # no secret set: not looked for


def test_folders_recurse_but_not_into_git_or_environments_and_checkpoints_say_so(tmp_path, jwt):
    for folder in (".git", "nb/.ipynb_checkpoints", "venv", "env2/conda-meta", "nb/deeper"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    for name in (".git/config", "nb/.ipynb_checkpoints/a-checkpoint.ipynb", "venv/x.py", "env2/y.py"):
        (tmp_path / name).write_text(jwt)
    (tmp_path / "nb" / "deeper" / "z.py").write_text(f"JWT = '{jwt}'\n")
    result = scan(tmp_path)
    assert result.returncode == 1 and result.stdout.splitlines() == [
        f"{tmp_path / 'nb/.ipynb_checkpoints/a-checkpoint.ipynb'}:1:JWT, in a checkpoint",  # what it once held
        f"{tmp_path / 'nb/deeper/z.py'}:1:JWT",
    ]


def test_nothing_found_is_exit_0_and_a_short_line(tmp_path):
    (tmp_path / "clean.py").write_text("print('hello')\n")
    result = scan(tmp_path)
    assert (result.returncode, result.stdout) == (0, "iyo-magic scan: nothing found in 1 file(s)\n")


def test_a_path_that_does_not_exist_is_one_line_and_exit_2(tmp_path):
    result = scan(tmp_path / "missing.ipynb")
    assert result.returncode == 2 and result.stderr.strip().endswith("missing.ipynb: no such file or folder")


def test_the_committed_notebooks_hold_no_token():
    result = scan("notebooks/", cwd=ROOT, secret=SECRET)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("iyo-magic scan: nothing found in ")


def test_the_pre_commit_hook_runs_the_scan_on_notebooks_and_text(tmp_path, jwt):
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "iyo-magic-scan" and hook["language"] == "python" and hook["types"] == ["text"]
    nbformat.write(leaky_notebook(jwt), tmp_path / "a.ipynb")
    # What pre-commit runs: the entry with the staged files' names appended.
    entry = hook["entry"].split()
    assert entry[:2] == ["iyo-magic", "scan"]
    result = scan(*entry[2:], "a.ipynb", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.startswith("a.ipynb:2:JWT in output\n")
    assert jwt in (tmp_path / "a.ipynb").read_text()  # reported, left as it was


def test_a_token_split_over_lines_outputs_or_a_line_break_is_found(tmp_path, jwt):
    half = len(jwt) // 2
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("a", outputs=[nbformat.v4.new_output("stream", text=jwt[:half] + "\n" + jwt[half:])]),
        nbformat.v4.new_code_cell(
            "b",
            outputs=[
                nbformat.v4.new_output("stream", text=jwt[:half]),
                nbformat.v4.new_output("stream", text=jwt[half:]),
            ],
        ),
        nbformat.v4.new_code_cell("c", outputs=[nbformat.v4.new_output("stream", text=SECRET[:4] + "\n" + SECRET[4:])]),
    ]
    path = tmp_path / "split.ipynb"
    nbformat.write(notebook, path)
    (tmp_path / "wrapped.txt").write_text(f"token:\n{jwt[:half]}\n{jwt[half:]}\n")
    result = scan(tmp_path, secret=SECRET)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}:1:JWT in output",
        f"{path}:2:JWT in output",
        f"{path}:3:IYO_CLIENT_SECRET value in output",
        f"{tmp_path / 'wrapped.txt'}:2:JWT",
    ]


def test_an_nbformat_3_notebook_is_read_through_its_worksheets(tmp_path, jwt):
    output = {"output_type": "pyout", "prompt_number": 1, "text": [jwt], "metadata": {}}
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "intro"},
        {"cell_type": "code", "input": f"t = '{jwt}'", "language": "python", "outputs": [output], "metadata": {}},
    ]
    notebook = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""}, "worksheets": [{"cells": cells}]}
    notebook["worksheets"].append({"cells": [], "metadata": {"note": SECRET}})
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(notebook))
    result = scan(path, secret=SECRET)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}:2:JWT in source",
        f"{path}:2:JWT in output",
        f"{path}:metadata:IYO_CLIENT_SECRET value in metadata",
    ]


def test_attachments_cell_and_notebook_metadata_and_markdown_sources_are_reported(tmp_path, jwt):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(f"token: {jwt}", attachments={"t.txt": {"text/plain": jwt}})]
    notebook.cells.append(nbformat.v4.new_code_cell("x", metadata={"tok": jwt}))
    notebook.metadata["tok"] = SECRET
    path = tmp_path / "parts.ipynb"
    nbformat.write(notebook, path)
    result = scan(path, secret=SECRET)
    assert result.stdout.splitlines() == [
        f"{path}:1:JWT in source",
        f"{path}:1:JWT in attachment",
        f"{path}:2:JWT in cell metadata",
        f"{path}:metadata:IYO_CLIENT_SECRET value in metadata",
    ]


def test_escaped_dots_zero_width_characters_and_base64_are_seen_through(tmp_path, jwt):
    notebook = nbformat.v4.new_notebook()
    png = base64.b64encode(b"\x89PNG\r\n" + jwt.encode()).decode()
    outputs = [
        [nbformat.v4.new_output("display_data", data={"text/html": jwt.replace(".", "&#x2E;")})],
        [nbformat.v4.new_output("stream", text=jwt.replace(".", "%2e"))],
        [nbformat.v4.new_output("stream", text=jwt[:30] + "\u2060" + jwt[30:])],
        [nbformat.v4.new_output("display_data", data={"image/png": png})],
        [nbformat.v4.new_output("stream", text=base64.b64encode(SECRET.encode()).decode())],
    ]
    notebook.cells = [nbformat.v4.new_code_cell("x", outputs=cell_outputs) for cell_outputs in outputs]
    path = tmp_path / "encoded.ipynb"
    nbformat.write(notebook, path)
    (tmp_path / "log.txt").write_text("ok\n" + json.dumps(jwt).replace(".", "\\u002E") + "\n")
    result = scan(tmp_path, secret=SECRET)
    assert result.stdout.splitlines() == [
        f"{path}:1:JWT in output",
        f"{path}:2:JWT in output",
        f"{path}:3:JWT in output",
        f"{path}:4:JWT in output",
        f"{path}:5:IYO_CLIENT_SECRET value in output",
        f"{tmp_path / 'log.txt'}:2:JWT",
    ]


def test_only_regular_files_are_read_and_what_is_skipped_is_said(tmp_path, jwt):
    (tmp_path / "target.txt").write_text(jwt)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text(jwt)
    tree = tmp_path / "tree"
    tree.mkdir()
    os.mkfifo(tree / "a-fifo")  # reading it would wait for a writer for ever
    (tree / "zero.txt").symlink_to("/dev/zero")  # reading it would fill the memory
    (tree / "link.txt").symlink_to(tmp_path / "target.txt")
    (tree / "linked-folder").symlink_to(outside)
    with open(tree / "huge.log", "wb") as huge:  # 51 MB, sparse: a JWT at its start
        huge.write(jwt.encode())
        huge.truncate(51 * 2**20)
    (tree / "clean.txt").write_text("nothing\n")
    result = scan(tree)
    assert (result.returncode, result.stdout) == (0, "iyo-magic scan: nothing found in 1 file(s); 5 skipped\n")
    assert sorted(result.stderr.splitlines()) == [
        f"iyo-magic scan: {tree / 'a-fifo'}: not a regular file (a FIFO, device or socket): skipped",
        f"iyo-magic scan: {tree / 'huge.log'}: larger than 50 MB: skipped",
        f"iyo-magic scan: {tree / 'link.txt'}: a symbolic link: not followed",
        f"iyo-magic scan: {tree / 'linked-folder'}: a symbolic link: not followed",
        f"iyo-magic scan: {tree / 'zero.txt'}: a symbolic link: not followed",
    ]


def test_nuls_and_utf16_do_not_hide_a_token(tmp_path, jwt):
    (tmp_path / "a.log").write_bytes(b"start\0\0\0" + bytes(9000) + b"\nline two " + jwt.encode() + b"\n")
    (tmp_path / "b.txt").write_text(f"first\nsecond {jwt}\n", encoding="utf-16")  # with a byte order mark
    (tmp_path / "c.txt").write_bytes(f"first\n{SECRET}\n".encode("utf-16-le"))  # without
    (tmp_path / "d.txt").write_bytes(b"\xff\xfe\0\0" + f"x {jwt}".encode("utf-32-le"))
    result = scan(tmp_path, secret=SECRET)
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'a.log'}:2:JWT",
        f"{tmp_path / 'b.txt'}:2:JWT",
        f"{tmp_path / 'c.txt'}:2:IYO_CLIENT_SECRET value",
        f"{tmp_path / 'd.txt'}:1:JWT",
    ]
