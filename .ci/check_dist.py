"""CI: what the sdist and the wheel hold. Each must carry the LICENSE text and the type marker,
the wheel the notebooks `iyo-magic demo` serves, and neither anything git ignores.

    python .ci/check_dist.py dist/iyo_magic-X.tar.gz dist/iyo_magic-X-py3-none-any.whl
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile

NOTEBOOKS = ["quickstart.ipynb", "training.ipynb", "form.ipynb", "cockpit-exploration.ipynb"]


def members(path: str) -> list[str]:
    if path.endswith(".whl"):
        with zipfile.ZipFile(path) as wheel:
            return wheel.namelist()
    with tarfile.open(path) as sdist:  # paths under the sdist's own top folder
        return [name.split("/", 1)[1] for name in sdist.getnames() if "/" in name]


def ignored_by_git(names: list[str]) -> list[str]:
    listed = subprocess.run(
        [shutil.which("git") or "git", "check-ignore", "--no-index", "--stdin"],
        input="\n".join(names),
        capture_output=True,
        text=True,
    )
    return listed.stdout.split()


def problems(path: str) -> list[str]:
    names = members(path)
    wanted = ["iyo_magic/py.typed"]
    if path.endswith(".whl"):
        wanted += [name for name in names if name.endswith(".dist-info/licenses/LICENSE")][:1] or ["LICENSE"]
        wanted += [f"iyo_magic/notebooks/{name}" for name in NOTEBOOKS]
    else:
        wanted += ["LICENSE", "CHANGELOG.md", "README.md"] + [f"notebooks/{name}" for name in NOTEBOOKS]
    found = [f"missing {name}" for name in wanted if name not in names]
    return found + [f"git ignores {name}" for name in ignored_by_git(names)]


def main(paths: list[str]) -> int:
    failed = False
    for path in paths:
        for problem in problems(path):
            print(f"{path}: {problem}", file=sys.stderr)
            failed = True
        if not failed:
            print(f"{path}: {len(members(path))} files, as expected")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
