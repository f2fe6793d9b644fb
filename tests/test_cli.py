"""`iyo-magic serve` as a new user runs it, and the Cockpit docs' curl commands against it."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from .conftest import ALICE_APP, ALICE_SECRET, ORG, ORG_SECRET


def cli_command(command, state_dir, *extra):
    """`iyo-magic COMMAND` on free ports with its own state directory."""
    return [
        sys.executable,
        "-m",
        "iyo_magic.server.cli",
        command,
        "--port",
        "0",
        "--cockpit-port",
        "0",
        "--state-dir",
        str(state_dir),
        *extra,
    ]


def clean_env(**extra):
    """This environment without the developer's IYO_* variables."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("IYO_")}, **extra}


def launch(command, state_dir, *extra, env=None):
    return subprocess.Popen(
        cli_command(command, state_dir, *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env or clean_env(),
    )


def start_serve(tmp_path, *extra):
    proc = launch("serve", tmp_path / "state", "--env-file", str(tmp_path / "env"), *extra)
    lines = []
    deadline = time.time() + 30
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl+C stops" in line:
            return proc, "".join(lines)
    proc.kill()
    raise AssertionError("serve did not start: " + "".join(lines))


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def exports(text):
    return dict(re.findall(r"^export (IYO_\w+)=(\S+)$", text, re.M))


def test_serve_prints_credentials_and_exports(tmp_path):
    proc, text = start_serve(tmp_path)
    try:
        env = exports(text)
        assert set(env) == {
            "IYO_BASE_URL",
            "IYO_COCKPIT_URL",
            "IYO_JWT_PUBLIC_KEY",
            "IYO_CLIENT_ID",
            "IYO_CLIENT_SECRET",
            "IYO_REDIRECT_URI",
        }
        assert "alice" in text and ALICE_APP in text
        assert (tmp_path / "env").read_text().count("export ") == 6
        assert env["IYO_BASE_URL"].startswith("http://127.0.0.1:")
        key = Path(env["IYO_JWT_PUBLIC_KEY"]).read_text()
    finally:
        stop(proc)
    proc, text = start_serve(tmp_path)  # a restart keeps the key: earlier JWTs stay verifiable
    try:
        assert Path(exports(text)["IYO_JWT_PUBLIC_KEY"]).read_text() == key
    finally:
        stop(proc)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_seed_curl_commands(tmp_path):
    proc, text = start_serve(tmp_path)
    try:
        env = exports(text)
        base, cockpit = env["IYO_BASE_URL"], env["IYO_COCKPIT_URL"]

        def curl(*args):
            return subprocess.run(["curl", "-s", *args], capture_output=True, text=True, timeout=30).stdout

        org = json.loads(
            curl(
                "-d",
                f"grant_type=client_credentials&client_id={ORG}&client_secret={ORG_SECRET}",
                f"{base}/v1/oauth/access_token",
            )
        )
        org_jwt = curl("-H", f"Authorization: token {org['access_token']}", f"{base}/v1/oauth/jwt?aud={ORG}")
        user = json.loads(
            curl(
                "-d",
                f"grant_type=client_credentials&client_id={ALICE_APP}&client_secret={ALICE_SECRET}",
                f"{base}/v1/oauth/access_token",
            )
        )
        user_jwt = curl(
            "-H", f"Authorization: token {user['access_token']}", f"{base}/v1/oauth/jwt?scope=user:memberof:{ORG}"
        )
        one_shot = curl(
            "-X",
            "POST",
            f"{base}/v1/oauth/access_token?grant_type=client_credentials&client_id={ORG}"
            f"&client_secret={ORG_SECRET}&response_type=id_token",
        )
        for jwt in (org_jwt, user_jwt, one_shot):
            assert '"name": "production"' in curl("-H", f"Authorization: bearer {jwt}", f"{cockpit}/ays/repository")
        assert requests.get(f"{cockpit}/ays/repository").text == "Not JWT token"
    finally:
        stop(proc)


def test_accounts_file_sets_up_the_cockpit_for_its_first_organization(tmp_path):
    key = {"label": "nb", "secret": "acme-secret-123", "callback_url": "http://127.0.0.1:8976/callback"}
    accounts = {"organizations": [{"globalid": "acme", "api_keys": [key]}, {"globalid": "beta"}], "users": []}
    (tmp_path / "accounts.json").write_text(json.dumps(accounts))
    proc, text = start_serve(tmp_path, "--accounts", str(tmp_path / "accounts.json"), "--cockpit-rules", "ays9")
    try:
        assert "acme-secret-123" not in text and "IYO_CLIENT_SECRET" not in text
        assert "(organization acme, ays9's JWT rules)" in text
        env = exports(text)
        r = requests.post(
            f"{env['IYO_BASE_URL']}/v1/oauth/access_token",
            data={"grant_type": "client_credentials", "client_id": "acme", "client_secret": "acme-secret-123"},
            timeout=10,
        )
        assert r.status_code == 200
        jwt = requests.get(
            f"{env['IYO_BASE_URL']}/v1/oauth/jwt",
            params={"aud": "acme"},
            headers={"Authorization": f"token {r.json()['access_token']}"},
            timeout=10,
        ).text
        cockpit = requests.get(
            f"{env['IYO_COCKPIT_URL']}/ays/repository", headers={"Authorization": f"bearer {jwt}"}, timeout=10
        )
        assert cockpit.status_code == 200, cockpit.text
    finally:
        stop(proc)


def test_organization_option_overrides_the_accounts_file():
    from iyo_magic.server import Accounts, StandIns

    accounts = Accounts.from_dict({"organizations": [{"globalid": "acme"}, {"globalid": "beta"}]})
    assert StandIns(accounts).organization == "acme"
    assert StandIns(accounts, organization="beta").organization == "beta"


def test_bad_accounts_file_is_one_line(tmp_path):
    (tmp_path / "bad.json").write_text('{"organizations": [{"api_keys": []}]}')
    out = subprocess.run(
        [sys.executable, "-m", "iyo_magic.server.cli", "serve", "--accounts", str(tmp_path / "bad.json")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2 and "missing or malformed field 'globalid'" in out.stderr


@pytest.mark.kernel
def test_demo_execute_runs_the_quickstart(tmp_path):
    out = subprocess.run(
        cli_command("demo", tmp_path, "--execute"), capture_output=True, text=True, timeout=300, env=clean_env()
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "iyo: cockpit-demo · scope organization:owner" in out.stdout
    assert "The demo ran every cell of quickstart.ipynb." in out.stdout


@pytest.mark.kernel
def test_demo_starts_jupyterlab_and_ctrl_c_stops_everything(tmp_path):
    pytest.importorskip("jupyterlab")
    env = clean_env(HOME=str(tmp_path), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    proc = launch("demo", tmp_path / "state", "--no-browser", env=env)
    lines, url = [], None
    deadline = time.time() + 90
    while time.time() < deadline and url is None:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"(http://127\.0\.0\.1:\d+/lab\S*token=\w+)", line)
        url = found.group(1) if found else None
    try:
        assert url, "".join(lines)
        base = url.split("/lab")[0]
        token = url.split("token=")[1]
        for _ in range(100):  # the address is printed a moment before the server accepts
            try:
                contents = requests.get(f"{base}/api/contents/quickstart.ipynb?token={token}", timeout=10)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert contents.status_code == 200
        base_url = exports("".join(lines))["IYO_BASE_URL"]
        assert requests.post(base_url + "/v1/oauth/access_token", timeout=5).status_code == 400
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=40) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(base, timeout=5)
    with pytest.raises(requests.ConnectionError):
        requests.post(base_url + "/v1/oauth/access_token", timeout=5)


@pytest.mark.skipif(os.name != "posix", reason="owners and modes are POSIX's")
@pytest.mark.parametrize("mode", [0o755, 0o770, 0o1777])
def test_serve_refuses_a_state_directory_others_can_use(tmp_path, mode):
    """Its signing key would be used as found: a key planted there would sign the stand-in's JWTs."""
    from iyo_magic.server.keys import SigningKey

    shared = tmp_path / "shared"
    shared.mkdir()
    SigningKey.load_or_create(shared)  # a key in it, as if planted
    planted = (shared / "jwt_key.pem").read_bytes()
    shared.chmod(mode)
    done = subprocess.run(cli_command("serve", shared), capture_output=True, text=True, env=clean_env(), timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"iyo-magic serve --state-dir refuses the directory {shared}: others can use it (mode {mode:o}); "
        f"run chmod 700 {shared}"
    ]
    assert (shared / "jwt_key.pem").read_bytes() == planted  # nothing touched


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a directory away")
def test_serve_refuses_a_state_directory_of_another_user(tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    done = subprocess.run(cli_command("demo", theirs), capture_output=True, text=True, env=clean_env(), timeout=60)
    assert done.returncode == 2
    assert (
        done.stderr.strip() == f"iyo-magic demo --state-dir refuses the directory {theirs}: it belongs to another user"
    )


def test_serve_makes_a_missing_state_directory_private(tmp_path):
    proc, _ = start_serve(tmp_path)
    stop(proc)
    assert oct((tmp_path / "state").stat().st_mode & 0o777) == "0o700"
