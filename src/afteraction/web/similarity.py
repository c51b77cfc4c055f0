"""Which embedding function "similar past incidents" uses in this process: chosen once when
the app is created (`services.search.embed_for`) and kept on the app's state.
"""

from __future__ import annotations

from fastapi import Request

from afteraction.core.ranking import Embed


def request_embed(request: Request) -> Embed | None:
    embed: Embed | None = getattr(request.app.state, "embed", None)
    return embed
