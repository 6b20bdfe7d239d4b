"""Responses encoded with orjson.

FastAPI encodes a returned dict by walking it with ``jsonable_encoder`` and then ``json.dumps``;
for a credit report (accounts x 24 months) that walk costs more than building the report.
Endpoints on hot paths return :class:`FastJSON` instead, which FastAPI passes through as is.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class FastJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
