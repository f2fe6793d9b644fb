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
    ip.run_line_magic("config", "IyoMagics.allowed_secret_envs = ['ALICE_SECRET']")  # not an IYO_* name
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


# -- what a profile someone else wrote may send, and where ----------------------------------------
@pytest.fixture()
def announced(monkeypatch):
    """A kernel that has announced nothing yet."""
    from iyo_magic.notebook import profiles

    monkeypatch.setattr(profiles, "_announced", set())


def test_a_profile_reads_only_iyo_variables_unless_the_user_allows_one(ip, two_secrets, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", ORG_SECRET)
    path = write_profiles(f'[team]\nclient_id = "{ORG}"\nsecret_env = "AWS_SECRET_ACCESS_KEY"\n')
    two_secrets.iyo.hits.clear()
    with pytest.raises(UsageError) as refused:
        run(ip, "-p team")
    assert str(refused.value) == (
        f"profile 'team' in {path} reads the secret from $AWS_SECRET_ACCESS_KEY: a profile may name only an IYO_* "
        "variable; to allow it, run %config IyoMagics.allowed_secret_envs = ['AWS_SECRET_ACCESS_KEY']"
    )
    assert not two_secrets.iyo.hits  # nothing was sent
    ip.run_line_magic("config", "IyoMagics.allowed_secret_envs = ['AWS_SECRET_ACCESS_KEY']")
    assert run(ip, "-p team").startswith(f"iyo: {ORG}")
    # An IYO_* variable needs no allowance.
    ip.run_line_magic("config", "IyoMagics.allowed_secret_envs = []")
    monkeypatch.setenv("IYO_TEAM_SECRET", ORG_SECRET)
    write_profiles(f'[team]\nclient_id = "{ORG}"\nsecret_env = "IYO_TEAM_SECRET"\n')
    assert run(ip, "-p team --fresh").startswith(f"iyo: {ORG}")


def test_a_profile_cannot_allow_its_own_variable(ip, two_secrets):
    path = write_profiles(
        f'[team]\nclient_id = "{ORG}"\nsecret_env = "ALICE_SECRET"\nallowed_secret_envs = ["ALICE_SECRET"]\n'
    )
    with pytest.raises(UsageError) as refused:
        run(ip, "-p team")
    assert str(refused.value) == (
        f"profile 'team' in {path} sets allowed_secret_envs: a profile cannot allow itself; remove it, and allow "
        "a variable yourself with %config IyoMagics.allowed_secret_envs"
    )
    ip.run_line_magic("config", "IyoMagics.profiles = {'team': {'secret_env': 'ALICE_SECRET'}}")
    with pytest.raises(UsageError, match=r"^profile 'team' in %config IyoMagics.profiles reads the secret from"):
        run(ip, "-p team")


def test_the_first_login_that_sends_the_jwt_to_a_profiles_cockpit_says_where(ip, two_secrets, announced):
    write_profiles(f'[team]\nclient_id = "{ORG}"\ncockpit_url = "https://cockpit.invalid/api"\n')
    first = run(ip, "-p team")
    assert first.startswith(f"iyo: {ORG}") and len(first.splitlines()) == 1
    assert first.endswith("(profile 'team' sends the JWT to cockpit.invalid)\n")
    assert "cockpit.invalid" not in run(ip, "-p team --fresh")  # once per kernel
    # The Cockpit given on the line is the user's choice: nothing to announce.
    write_profiles(f'[other]\nclient_id = "{ORG}"\ncockpit_url = "https://elsewhere.invalid/api"\n')
    assert "profile" not in run(ip, f"-p other --fresh --cockpit {two_secrets.cockpit_url}")


def test_the_first_login_that_sends_a_profiles_secret_to_a_foreign_host_says_which_to_where(
    ip, two_secrets, announced, monkeypatch
):
    monkeypatch.setenv("IYO_TEAM_SECRET", ORG_SECRET)
    write_profiles(f'[team]\nclient_id = "{ORG}"\nsecret_env = "IYO_TEAM_SECRET"\nbase_url = "https://iyo.invalid"\n')
    with pytest.raises(UsageError) as failed:
        run(ip, "-p team")
    message = str(failed.value)
    assert message.endswith("(profile 'team' sends $IYO_TEAM_SECRET to iyo.invalid)") and "\n" not in message
    assert ORG_SECRET not in message
    with pytest.raises(UsageError) as again:
        run(ip, "-p team")
    assert "profile 'team'" not in str(again.value)  # said once per kernel
    # The same profile at the stand-in (loopback) announces nothing.
    write_profiles(f'[team]\nclient_id = "{ORG}"\nsecret_env = "IYO_TEAM_SECRET"\n')
    assert "profile" not in run(ip, "-p team")


def test_itsyou_online_and_loopback_are_not_announced(announced):
    from iyo_magic.notebook.profiles import first_sends

    for quiet in ("https://itsyou.online", "https://staging.itsyou.online", "http://127.0.0.1:1", "http://[::1]:1"):
        assert first_sends("team", ["base_url"], "$IYO_X", quiet, "") == "", quiet
    assert first_sends("team", ["base_url"], "$IYO_X", "https://itsyou.online.example", "") == (
        "profile 'team' sends $IYO_X to itsyou.online.example"
    )
    assert first_sends("team", ["cockpit_url"], "$IYO_X", "https://itsyou.online", "https://c.example/api") == (
        "profile 'team' sends the JWT to c.example"
    )
