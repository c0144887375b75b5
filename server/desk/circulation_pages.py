"""The desk's section /circulation: Выдача и возврат: карточка читателя, выдать, вернуть, продлить."""

from __future__ import annotations

from fastapi import APIRouter

from server.desk.web import PREFIX

router = APIRouter(prefix=PREFIX + "/circulation", include_in_schema=False)
