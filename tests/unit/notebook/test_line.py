"""The magic's own parser (``notebook/line.py``): what IPython's would do, for less at ``%load_ext``."""

from __future__ import annotations

import subprocess
import sys

import pytest
from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

from iyo_magic.notebook.line import _keywords, _parser
from iyo_magic.notebook.options import OPTIONS


def ipythons_parser(description: str) -> MagicArgumentParser:
    """The same options on IPython's own magic parser, as the magic had them before."""
    parser = MagicArgumentParser("iyo_token", description=description)
    groups: dict = {}
    for option in OPTIONS:
        if option.flags:
            group = groups.setdefault(option.group, parser.add_argument_group(option.group))
            group.add_argument(*option.flags, **_keywords(option))
    return parser


def test_the_help_is_laid_out_as_ipythons_magic_parser_lays_it_out():
    description = "Get a JWT.\n\n    Indented lines stay as they are::\n\n        %iyo_token --aud ORG\n"
    assert _parser(description).format_help() == ipythons_parser(description).format_help()


@pytest.mark.parametrize("line", ["--no-such-option", "--wait soon", "--flow nonsense", "stray"])
def test_a_bad_line_is_a_usage_error_not_an_exit(line):
    with pytest.raises(UsageError):
        _parser("d").parse_argstring(line)


@pytest.mark.parametrize(
    "line", ["--aud 'my org' --fresh", '-f code --scope "user:memberof:a b"', "--aud a --aud b", "--wait 2.5"]
)
def test_a_line_reads_as_ipythons_magic_parser_reads_it(line):
    assert _parser("d").parse_argstring(line) == ipythons_parser("d").parse_argstring(line)


def test_an_unbalanced_quote_is_a_value_error_as_in_ipythons_parser():
    for parser in (_parser("d"), ipythons_parser("d")):
        with pytest.raises(ValueError):
            parser.parse_argstring("--aud 'my org")


def test_loading_and_parsing_leave_ipythons_magic_arguments_unimported():
    code = (
        "import sys; from IPython.core.interactiveshell import InteractiveShell;"
        "ip = InteractiveShell.instance(); print('IPython.core.magic_arguments' in sys.modules);"
        "ip.run_line_magic('load_ext', 'iyo_magic');"
        "ip.magics_manager.registry['IyoMagics'].iyo_token.parser_for_line().parse_argstring('--aud x');"
        "print('IPython.core.magic_arguments' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    before, after = out.stdout.split()
    if before == "True":  # older IPythons import it for their own magics at start
        pytest.skip("this IPython imports magic_arguments itself")
    assert after == "False", out.stderr
