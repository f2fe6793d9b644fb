"""Draws docs/timeline.png, README's picture of ``jobs.timeline()``: a year of a fleet's jobs in the
Cockpit stand-in (``StandIns(jobs=3000)``, as ``iyo-magic serve --jobs 3000``), through the client.

    python docs/timeline.py
"""

from __future__ import annotations

from pathlib import Path

from iyo_magic import LoginRequest, login
from iyo_magic.server import StandIns
from iyo_magic.server.accounts import DEMO
from iyo_magic.server.accounts import DEMO_ORGANIZATION as ORG

PICTURE = Path(__file__).with_name("timeline.png")


def main() -> None:
    secret = DEMO["organizations"][0]["api_keys"][0]["secret"]
    with StandIns(jobs=3000) as servers:
        request = LoginRequest(
            client_id=ORG, base_url=servers.iyo_url, cockpit_url=servers.cockpit_url, public_key=servers.key.public_pem
        )
        production = login(request, secret).cockpit.repository("production")
        production.list_jobs().timeline().savefig(PICTURE, dpi=90)
    print(f"wrote {PICTURE}")


if __name__ == "__main__":
    main()
