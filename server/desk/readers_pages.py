"""The desk's section /readers: search, add, block, PINs, cards, class lists, the school year."""

from __future__ import annotations

from fastapi import APIRouter

from server.desk.web import PREFIX

router = APIRouter(prefix=PREFIX + "/readers", include_in_schema=False)
