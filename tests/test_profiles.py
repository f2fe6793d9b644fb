"""Named profiles (`-p NAME`) from profiles.toml or `%config IyoMagics.profiles`: precedence flag >
profile > %config > environment > default, and a profile that holds a secret is refused without
repeating it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from .conftest import ALICE_APP, ALICE_SECRET, ORG, ORG_SECRET
from .test_remember import run

SCOPE = f"user:memberof:{ORG}"


def write_profiles(text: str) -> Path:
    path = Path(os.environ["IYO_CONFIG_DIR"]) / "profiles.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture()
def two_secrets(ip, iyo_env, monkeypatch):
    """The org's secret in IYO_CLIENT_SECRET (and IYO_CLIENT_ID=ORG); alice's in ALICE_SECRET."""
    monkeypatch.setenv("ALICE_SECRET", ALICE_SECRET)
    return iyo_env


def test_a_profile_from_the_file_fills_what_the_line_leaves_out(ip, two_secrets):
    write_profiles(
        f'[analyst]\nclient_id = "{ALICE_APP}"\nscope = ["{SCOPE}"]\nsecret_env = "ALICE_SECRET"\n'
        f'cockpit_url = "{two_secrets.cockpit_url}"\n'
    )
    ip.run_line_magic("config", f"IyoMagics.client_id = {ORG!r}")  # the profile wins over %config and env
    out = run(ip, "-p analyst")
    assert out.startswith(f"iyo: alice · scope {SCOPE}") and ip.user_ns["iyo_jwt"].azp == ALICE_APP
    assert ip.user_ns["iyo_cockpit"].get("/ays/repository").status_code == 200
    # A flag wins over the profile: the organization's own login, with its own secret.
    out = run(ip, "-p analyst --client-id cockpit-demo --secret-env IYO_CLIENT_SECRET --scope organization:owner")
    assert out.startswith("iyo: cockpit-demo") and ip.user_ns["iyo_jwt"].azp == ORG


def test_a_profile_in_config_wins_over_the_files_of_the_same_name(ip, two_secrets):
    write_profiles(f'[analyst]\nclient_id = "{ALICE_APP}"\nsecret_env = "ALICE_SECRET"\n')
    ip.run_line_magic("config", f"IyoMagics.profiles = {{'analyst': {{'client_id': {ORG!r}, 'aud': [{ORG!r}]}}}}")
    assert run(ip, "-p analyst").startswith(f"iyo: {ORG} · scope organization:owner · aud {ORG}")


def test_a_profile_that_holds_a_secret_is_refused_without_repeating_it(ip, two_secrets):
    path = write_profiles(f'[leaky]\nclient_id = "{ORG}"\nclient_secret = "{ORG_SECRET}"\n')
    with pytest.raises(UsageError) as refused:
        run(ip, "-p leaky")
    assert str(refused.value) == (
        f"profile 'leaky' in {path} holds a secret (client_secret): a profile never does; remove it and give "
        "the secret by $IYO_CLIENT_SECRET, or name its variable with secret_env"
    )
    jwt_like = "eyJhbGciOiJFUzM4NCJ9.eyJhenAiOiJ4In0.c2lnbmF0dXJlX3M"
    ip.run_line_magic("config", f"IyoMagics.profiles = {{'pasted': {{'aud': [{jwt_like!r}]}}}}")
    with pytest.raises(
        UsageError, match=r"^profile 'pasted' in %config IyoMagics.profiles holds a secret \(aud\)"
    ) as e:
        run(ip, "-p pasted")
    assert jwt_like not in str(e.value)
    ip.run_line_magic("config", f"IyoMagics.profiles = {{'env': {{'secret_env': {ORG_SECRET!r}}}}}")
    with pytest.raises(UsageError, match=r"holds a secret \(secret_env\)") as e:
        run(ip, "-p env")
    assert ORG_SECRET not in str(e.value)


def test_profile_mistakes_are_one_line(ip, two_secrets):
    path = write_profiles('[a]\nclient_id = "x"\n[b]\nflavour = "x"\n[c]\nscope = 3\n[d]\nbase_url = \n')
    with pytest.raises(UsageError, match=f"^{path} is not valid TOML \\(at line 8, column 12\\)$"):
        run(ip, "-p a")
    path = write_profiles('[a]\nclient_id = "x"\n[b]\nflavour = "x"\n[c]\nscope = 3\n')
    with pytest.raises(UsageError, match=r"^no profile 'zzz' \(profiles: a, b, c; they come from "):
        run(ip, "-p zzz")
    with pytest.raises(UsageError, match=r"^profile 'b' in .*: unknown setting 'flavour' \(known: base_url, "):
        run(ip, "-p b")
    with pytest.raises(UsageError, match=r"^profile 'c' in .*: scope must be a string or a list of strings$"):
        run(ip, "-p c")
