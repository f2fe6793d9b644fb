"""Fuzzing the magic's option parsing and the paste-back parser (hypothesis)."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError

from iyo_magic.callback import parse_pasted
from iyo_magic.errors import ConfigError

SECRET = "Zq8-fuzz-secret-3xV"
OPTIONS = [
    "-f",
    "--flow",
    "--client-id",
    "--secret-env",
    "--secret-var",
    "--scope",
    "--aud",
    "--validity",
    "--no-refresh",
    "--no-jwt",
    "--jwt-only",
    "--redirect-uri",
    "--listen",
    "--paste",
    "--no-browser",
    "--wait",
    "--base-url",
    "--cockpit",
    "-o",
    "--prefix",
    "--status",
    "--clear",
    "--fresh",
    "--client-secret",
    "--secret",
    "--password",
    "-x",
    "--",
]
VALUES = st.one_of(
    st.sampled_from(
        [
            "cc",
            "code",
            "client_credentials",
            "org1",
            "0",
            "-5",
            "1e9",
            "http://127.0.0.1:9",
            "https://iyo.invalid",
            "ftp://x",
            "",
            "'",
            '"',
            "a b",
            "=",
            "user:memberof:x,",
            "ö",
        ]
    ),
    st.text(min_size=0, max_size=12),
)
# The ways a secret gets onto a line by mistake: alone, after an unknown option, as KEY=value,
# or as the value of an option (only --client-id, --scope and --aud values are shown by design).
SECRET_WORDS = st.sampled_from(
    [
        SECRET,
        f"IYO_CLIENT_SECRET={SECRET}",
        f"--client-secret={SECRET}",
        f"--client-secret {SECRET}",
        f"--password {SECRET}",
    ]
)
SHOWN_BY_DESIGN = {"--client-id", "--scope", "--aud"}
LINES = (
    st.lists(st.one_of(st.sampled_from(OPTIONS), VALUES), max_size=8)
    .flatmap(lambda words: st.tuples(st.just(words), SECRET_WORDS, st.integers(0, len(words))))
    .filter(lambda sample: sample[2] == 0 or sample[0][sample[2] - 1] not in SHOWN_BY_DESIGN)
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(LINES)
def test_magic_options_only_succeed_or_raise_usage_error(ip, monkeypatch, sample):
    monkeypatch.setenv("IYO_BASE_URL", "http://127.0.0.1:9")  # any login attempt fails at once
    monkeypatch.setenv("IYO_CLIENT_ID", "org1")
    words, secret_word, position = sample
    line = " ".join([*words[:position], secret_word, *words[position:]])
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            ip.run_line_magic("iyo_token", line)
    except UsageError as exc:
        assert SECRET not in str(exc)
    assert SECRET not in out.getvalue()


@settings(max_examples=2000, deadline=None)
@given(
    st.one_of(
        st.text(max_size=200),
        st.builds(lambda q: f"http://127.0.0.1:8976/callback?{q}", st.text(max_size=80)),
        st.builds(lambda c, s: f"code={c}&state={s}", st.text(max_size=30), st.text(max_size=30)),
    )
)
def test_paste_parser_only_answers_or_raises_config_error(text):
    try:
        answer = parse_pasted(text)
    except ConfigError as exc:
        pasted = text.strip()
        assert len(pasted) < 8 or pasted[:20] not in str(exc)  # the pasted text is never repeated
        return
    assert set(answer) <= {"code", "state", "error"} and ("code" in answer or "error" in answer)
