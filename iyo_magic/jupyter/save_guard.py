"""The save guard: before this Jupyter server writes a notebook, every JWT that ItsYou.online
issued (and the value of the server's own ``$IYO_CLIENT_SECRET``) in the cells' outputs and in
the saved widget state is replaced by a marker such as
``«JWT removed by iyo_magic: username alice, expires 2026-12-01 10:00:00 UTC»``.

The marker is the notice: whoever opens the saved notebook sees it where the token was. The cell
also gets ``"iyo_magic": {"removed": [...]}`` in its metadata, and the server logs one line
(the notebook, the cells, how many; never a value). The notebook open in the browser still shows
the token until its output is cleared or the notebook is reopened. Cell sources are your code and
are left as they are (``iyo-magic scan`` reports a token there).

Off with ``IYO_SAVE_GUARD=off`` in the server's environment, or ``c.IyoSaveGuard.enabled = False``
in its configuration.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from traitlets import Bool, default
from traitlets.config import LoggingConfigurable

from ..leaks import GUARDED_PARTS, JWT_KIND, SECRET_KIND, mask_pieces, notebook_parts, text_groups, usable_secrets

OFF_WORDS = ("off", "0", "false", "no")
KINDS = (JWT_KIND, SECRET_KIND)


class IyoSaveGuard(LoggingConfigurable):
    """Masks ItsYou.online JWTs in outputs and widget state before a notebook is saved."""

    enabled = Bool(
        help="Replace ItsYou.online JWTs (and $IYO_CLIENT_SECRET's value) in a notebook's outputs and widget "
        "state by a marker before the notebook is saved. Default: on, unless IYO_SAVE_GUARD=off."
    ).tag(config=True)

    @default("enabled")
    def _enabled_default(self) -> bool:
        return os.environ.get("IYO_SAVE_GUARD", "on").strip().lower() not in OFF_WORDS

    def scrub(self, model: dict[str, Any], path: str, **_: Any) -> None:
        """The pre-save hook (jupyter_server calls it with ``model``, ``path`` and ``contents_manager``)."""
        content = model.get("content")
        if model.get("type") != "notebook" or not isinstance(content, dict):
            return
        secrets = usable_secrets([os.environ.get("IYO_CLIENT_SECRET")])
        removed: Counter[str] = Counter()
        places: list[str] = []
        for place, holder, key in notebook_parts(content):
            if place.part not in GUARDED_PARTS:
                continue
            here: list[str] = []
            for group in text_groups(holder, key):
                masked, kinds = mask_pieces([slot[name] for slot, name in group], secrets)
                if kinds:
                    for (slot, name), text in zip(group, masked):
                        slot[name] = text
                    here += kinds
            if not here:
                continue
            removed.update(here)
            places.append("the widget state" if place.cell is None else f"cell {place.cell}")
            if place.cell is not None:  # the holder of a cell's part is the cell
                if not isinstance(holder.get("metadata"), dict):
                    holder["metadata"] = {}
                holder["metadata"]["iyo_magic"] = {"removed": sorted(set(here))}
        if removed:
            what = " and ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind in KINDS if (n := removed[kind]))
            self.log.warning(
                "iyo_magic: removed %s from %s before saving (%s); the open notebook still shows them "
                "until those outputs are cleared",
                what,
                path,
                ", ".join(places),
            )


def install(serverapp: Any) -> None:
    """Register the save guard with ``serverapp``'s contents manager, unless it is turned off."""
    guard = IyoSaveGuard(parent=serverapp)
    if not guard.enabled:
        serverapp.log.info("iyo_magic: the save guard is off (IYO_SAVE_GUARD or IyoSaveGuard.enabled)")
        return
    serverapp.contents_manager.register_pre_save_hook(guard.scrub)
