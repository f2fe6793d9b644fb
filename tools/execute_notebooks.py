"""Re-run the committed notebooks against fresh stand-ins and store their outputs.

    python tools/execute_notebooks.py notebooks/*.ipynb

Outputs are stored with widget state, exactly as `jupyter nbconvert --execute` would; the
script then refuses to write a notebook that holds any demo secret or any token it obtained.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbclient
import nbformat

from iyo_magic.server import StandIns
from iyo_magic.server.accounts import DEMO

JWT_PATTERN = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.")


def demo_secrets() -> list[str]:
    values = [u["password"] for u in DEMO["users"]]
    values += [k["secret"] for o in DEMO["organizations"] for k in o["api_keys"]]
    values += [k["secret"] for u in DEMO["users"] for k in u["api_keys"]]
    return values


def main(paths: list[str]) -> int:
    with StandIns() as servers:
        os.environ.update(servers.environment(with_demo_credentials=True))
        for name in paths:
            path = Path(name)
            notebook = nbformat.read(path, as_version=4)
            client = nbclient.NotebookClient(
                notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
            )
            client.execute()
            text = nbformat.writes(notebook)
            issued = [t.token for t in servers.iyo.state.access_tokens.values()]
            if any(v in text for v in demo_secrets() + issued) or JWT_PATTERN.search(text):
                print(f"{path}: refusing to write, it would hold a secret or token", file=sys.stderr)
                return 1
            path.write_text(text)
            print(f"{path}: executed and stored")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
