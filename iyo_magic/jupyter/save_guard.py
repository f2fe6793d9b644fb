"""The save guard: before this Jupyter server writes a notebook, every JWT that ItsYou.online
issued (and the value of the server's own ``$IYO_CLIENT_SECRET``) in the cells' outputs,
attachments and metadata, in the notebook's metadata and in the saved widget state is replaced by
a marker such as ``«JWT removed by iyo_magic: username alice, expires 2026-12-01 10:00:00 UTC»``;
so is one in a text file saved through the contents API (the editor's ``.py``, ``.txt``, ...).

The marker is the notice: whoever opens the saved notebook sees it where the token was. The cell
also gets ``"iyo_magic": {"removed": [...]}`` in its metadata, and the server logs one line
(the notebook, the cells, how many; never a value). The notebook open in the browser still shows
the token until its output is cleared or the notebook is reopened. Cell sources are your code and
are left as they are (``iyo-magic scan`` reports a token there). Files uploaded as bytes
(``format: base64``) are written as sent.

Off with ``IYO_SAVE_GUARD=off`` in the server's environment, or ``c.IyoSaveGuard.enabled = False``
in its configuration.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from traitlets import Bool, default
from traitlets.config import LoggingConfigurable

from ..leaks import GUARDED_PARTS, JWT_KIND, SECRET_KIND, mask, mask_pieces, notebook_parts, text_groups, usable_secrets

OFF_WORDS = ("off", "0", "false", "no")
KINDS = (JWT_KIND, SECRET_KIND)


class IyoSaveGuard(LoggingConfigurable):
    """Masks ItsYou.online JWTs in a notebook (all but its sources) or a text file before it is saved."""

    enabled = Bool(
        help="Replace ItsYou.online JWTs (and $IYO_CLIENT_SECRET's value) in a notebook (all but its cells' "
        "sources) or a text file by a marker before it is saved. Default: on, unless IYO_SAVE_GUARD=off."
    ).tag(config=True)

    @default("enabled")
    def _enabled_default(self) -> bool:
        return os.environ.get("IYO_SAVE_GUARD", "on").strip().lower() not in OFF_WORDS

    def scrub(self, model: dict[str, Any], path: str, **_: Any) -> None:
        """The pre-save hook (jupyter_server calls it with ``model``, ``path`` and ``contents_manager``)."""
        content = model.get("content")
        secrets = usable_secrets([os.environ.get("IYO_CLIENT_SECRET")])
        if model.get("type") == "file" and model.get("format") == "text" and isinstance(content, str):
            model["content"], kinds = mask(content, secrets)
            self._tell(path, Counter(kinds), ["the file"], "the open file still shows them until it is reloaded")
        elif model.get("type") == "notebook" and isinstance(content, dict):
            self._scrub_notebook(content, path, secrets)

    def _scrub_notebook(self, content: dict[str, Any], path: str, secrets: list[str]) -> None:
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
            where = f"cell {place.cell}" if place.cell is not None else f"the {place.part}"
            places += [] if where in places else [where]
            if place.cell is not None:  # the holder of a cell's part is the cell
                if not isinstance(holder.get("metadata"), dict):
                    holder["metadata"] = {}
                before = holder["metadata"].get("iyo_magic")
                earlier = before.get("removed", []) if isinstance(before, dict) else []
                holder["metadata"]["iyo_magic"] = {"removed": sorted(set(here) | set(earlier))}
        self._tell(path, removed, places, "the open notebook still shows them until those outputs are cleared")

    def _tell(self, path: str, removed: Counter[str], places: list[str], still: str) -> None:
        """The server's one log line: how many of what were removed, and where (never a value)."""
        if removed:
            what = " and ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind in KINDS if (n := removed[kind]))
            self.log.warning(
                "iyo_magic: removed %s from %s before saving (%s); %s", what, path, ", ".join(places), still
            )


def install(serverapp: Any) -> None:
    """Register the save guard with ``serverapp``'s contents manager, unless it is turned off."""
    guard = IyoSaveGuard(parent=serverapp)
    if not guard.enabled:
        serverapp.log.info("iyo_magic: the save guard is off (IYO_SAVE_GUARD or IyoSaveGuard.enabled)")
        return
    serverapp.contents_manager.register_pre_save_hook(guard.scrub)
