"""What only the magic does: caching, status, clear, prefix, the secret's sources, config precedence."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from .conftest import ALL_SECRETS, ORG, ORG_SECRET


def run(ip, line):
    return ip.run_line_magic("iyo_token", line)


def hits(standins):
    return sum(standins.iyo.hits.values())


def test_summary_line_and_variables(ip, iyo_env, capsys):
    assert run(ip, f"--aud {ORG}") is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith(f"iyo: {ORG} · scope organization:owner · aud {ORG}")
    assert "signature verified" in out and "iyo_cockpit" in out
    for name in ("iyo_access_token", "iyo_jwt", "iyo_auth", "iyo_cockpit"):
        assert name in ip.user_ns
    assert ip.user_ns["iyo_jwt"].reveal() not in out and ip.user_ns["iyo_access_token"].reveal() not in out
    assert ip.user_ns["iyo_cockpit"].get("/ays/repository").status_code == 200


def test_identical_call_makes_no_request_and_fresh_does(ip, iyo_env, capsys):
    run(ip, f"--aud {ORG}")
    first = ip.user_ns["iyo_jwt"]
    before = hits(iyo_env)
    run(ip, f"--aud {ORG}")
    assert hits(iyo_env) == before and ip.user_ns["iyo_jwt"] is first
    assert "no request made" in capsys.readouterr().out
    run(ip, f"--aud {ORG} --validity 600")  # different options: a new login
    assert hits(iyo_env) == before + 2
    run(ip, f"--aud {ORG} --validity 600 --fresh")
    assert hits(iyo_env) == before + 4


def test_other_secret_is_not_an_identical_call(ip, iyo_env, monkeypatch):
    run(ip, "")
    monkeypatch.setenv("IYO_CLIENT_SECRET", "wrong")
    with pytest.raises(UsageError, match="client id or secret rejected"):
        run(ip, "")
    assert "iyo_jwt" in ip.user_ns  # the earlier valid tokens stay


def test_prefix_status_and_clear(ip, iyo_env, capsys):
    run(ip, "-o ops --jwt-only")
    assert "ops_jwt" in ip.user_ns and "ops_access_token" not in ip.user_ns
    capsys.readouterr()
    run(ip, "--status -o ops")
    out = capsys.readouterr().out
    assert "ops_jwt: <JWT (masked)" in out and ip.user_ns["ops_jwt"].reveal() not in out
    run(ip, "--clear -o ops")
    assert "cleared ops_jwt, ops_auth, ops_cockpit" in capsys.readouterr().out
    assert "ops_jwt" not in ip.user_ns
    run(ip, "--status -o ops")
    assert "nothing stored" in capsys.readouterr().out
    with pytest.raises(UsageError, match="must be a valid Python name"):
        run(ip, "-o 9x")


def test_secret_from_named_env_variable(ip, iyo_env, monkeypatch):
    monkeypatch.delenv("IYO_CLIENT_SECRET")
    monkeypatch.setenv("MY_ORG_SECRET", ORG_SECRET)
    run(ip, "--secret-env MY_ORG_SECRET")
    assert ip.user_ns["iyo_jwt"].globalid == ORG


def test_no_secret_and_no_prompt_fails_at_once(ip, iyo_env, monkeypatch):
    monkeypatch.delenv("IYO_CLIENT_SECRET")
    with pytest.raises(UsageError, match=r"no client secret: set \$IYO_CLIENT_SECRET .*cannot answer a prompt"):
        run(ip, "")


def test_secret_var_must_exist(ip, iyo_env):
    with pytest.raises(UsageError, match="--secret-var NAME: the notebook has no variable of that name"):
        run(ip, "--secret-var nope")
    ip.user_ns["n"] = 5
    with pytest.raises(UsageError, match="must hold the secret as a non-empty string"):
        run(ip, "--secret-var n")


def test_no_client_id(ip, iyo_env, monkeypatch):
    monkeypatch.delenv("IYO_CLIENT_ID")
    with pytest.raises(UsageError, match=r"no client id: give --client-id \(or IYO_CLIENT_ID\)"):
        run(ip, "")


def test_contradicting_options(ip, iyo_env):
    with pytest.raises(UsageError, match="contradict"):
        run(ip, "--jwt-only --no-jwt")
    with pytest.raises(UsageError, match="positive"):
        run(ip, "--validity 0")


def test_configuration_precedence(ip, iyo_env, monkeypatch):
    """flag > %config > environment > default."""
    good = iyo_env.iyo_url
    monkeypatch.setenv("IYO_BASE_URL", "http://127.0.0.1:9")
    from iyo_magic.notebook.magic import IyoMagics

    ip.register_magics(IyoMagics)  # a fresh instance reads the environment
    with pytest.raises(UsageError, match="cannot reach 127.0.0.1:9"):
        run(ip, "")
    ip.run_line_magic("config", f"IyoMagics.base_url = {good!r}")
    run(ip, "")
    ip.run_line_magic("config", "IyoMagics.base_url = 'http://127.0.0.1:10'")
    run(ip, f"--base-url {good} --fresh")
    assert ip.user_ns["iyo_jwt"].globalid == ORG
    monkeypatch.delenv("IYO_BASE_URL")
    ip.config.pop("IyoMagics")
    assert IyoMagics(shell=ip).base_url == "https://itsyou.online"


def test_help_page_is_for_users(ip):
    doc = ip.find_line_magic("iyo_token").__doc__
    for words in (
        "Examples",
        "%iyo_token --client-id myorg --aud myorg",
        "--secret-var",
        "--jwt-only",
        "iyo_cockpit",
        "IYO_CLIENT_SECRET",
    ):
        assert words in doc


@pytest.mark.parametrize("line", ["--help", "-h", "--aud x -h"])
def test_help_flags_print_what_the_question_mark_shows(ip, capsys, line):
    ip.run_line_magic("iyo_token", line)
    printed = capsys.readouterr().out.strip()
    assert printed.splitlines()[2].lstrip().startswith("%iyo_token [-p NAME]")
    assert printed in ip.object_inspect_text("%iyo_token")  # what %iyo_token? shows
    assert "iyo_jwt" not in ip.user_ns  # help, not a login


def test_help_with_a_stray_word_keeps_it_out_of_the_history(ip, capsys):
    ip.run_cell("%iyo_token --help maybe-a-secret", store_history=True)
    assert ip.history_manager.input_hist_raw[-1] == "%iyo_token --help <removed>"
    assert "%iyo_token [-p NAME]" in capsys.readouterr().out


def test_nothing_secret_in_outputs(ip, iyo_env, capsys):
    ip.user_ns["s"] = ORG_SECRET
    run(ip, f"--secret-var s --aud {ORG}")
    del ip.user_ns["s"]  # the user's own variable; %whos would show it
    run(ip, "--status")
    ip.run_cell("iyo_jwt")
    ip.run_cell("iyo_access_token")
    ip.run_cell("iyo_auth")
    ip.run_cell("iyo_cockpit")
    ip.run_cell("%whos")
    ip.run_cell("print(iyo_jwt, iyo_access_token); print('%s' % iyo_jwt)")
    out = capsys.readouterr().out
    values = ALL_SECRETS + [ip.user_ns["iyo_jwt"].reveal(), ip.user_ns["iyo_access_token"].reveal()]
    assert "<JWT (masked)" in out
    for value in values:
        assert value not in out
    assert "refresh_token" not in repr(ip.user_ns["iyo_jwt"])


def test_lists_in_any_spelling_are_the_same_call(ip, iyo_env, capsys):
    run(ip, f"--aud {ORG},other --scope organization:owner")
    before = hits(iyo_env)
    run(ip, f"--aud {ORG} --aud other --scope organization:owner,")
    assert hits(iyo_env) == before and "no request made" in capsys.readouterr().out
    assert ip.user_ns["iyo_jwt"].audience == (ORG, "other")


def test_help_groups_the_options_and_names_each_once(ip):
    from IPython.core.oinspect import getdoc

    text = getdoc(ip.magics_manager.magics["line"]["iyo_token"])  # what %iyo_token? shows
    groups = ["flow and credentials:", "JWT:", "browser (authorization_code flow):", "output and state:"]
    assert [text.index(group) for group in groups] == sorted(text.index(group) for group in groups)
    assert text.count("client_credentials (cc") == 1 and "{client_credentials,cc" not in text


def form_values(ip, line: str) -> dict:
    from IPython.utils.capture import capture_output
    from ipywidgets import widget_serialization

    with capture_output() as captured:
        ip.run_line_magic("iyo_token", line)
    model_id = captured.outputs[0].data["application/vnd.jupyter.widget-view+json"]["model_id"]
    box = widget_serialization["from_json"](f"IPY_MODEL_{model_id}", None)  # public on every ipywidgets 8
    advanced = next(child for child in box.children if child.__class__.__name__ == "Accordion").children[0]
    fields = [*box.children, *advanced.children]
    return {child.description: child.value for child in fields if hasattr(child, "value") and child.description}


def test_form_takes_every_flag_it_can_honour(ip, iyo_env):
    values = form_values(
        ip, "--form --jwt-only --no-refresh --listen 8999 --wait 30 --redirect-uri http://127.0.0.1:8999/cb"
    )
    assert values["Get"] == (True, True) and values["Refreshable JWT (offline_access)"] is False
    assert values["Listen on"] == "8999" and values["Wait (s)"] == "30" and values["Redirect URI"].endswith(":8999/cb")
    assert form_values(ip, "--form --no-jwt")["Get"] == (False, False)
    remember = next(v for k, v in form_values(ip, "--form --remember").items() if k.startswith("Remember"))
    assert remember is True


def test_form_takes_a_profile(ip, iyo_env):
    ip.run_line_magic("config", "IyoMagics.profiles = {'lab': {'scope': 'user:memberof:lab', 'remember': True}}")
    values = form_values(ip, "--form -p lab")
    assert values["JWT scope"] == "user:memberof:lab"
    assert next(v for k, v in values.items() if k.startswith("Remember")) is True


@pytest.mark.parametrize(
    "line,error",
    [
        ("--form --status", "--form and --status ask for different things"),
        ("--form --clear", "--form and --clear ask for different things"),
        ("--form --jwt-only --no-jwt", "--jwt-only and --no-jwt contradict each other"),
    ],
)
def test_form_refuses_what_it_cannot_do(ip, iyo_env, line, error):
    ip.run_line_magic("iyo_token", f"--aud {ORG}")
    with pytest.raises(UsageError, match=error):
        ip.run_line_magic("iyo_token", line)
    assert "iyo_jwt" in ip.user_ns  # --clear did not run either
