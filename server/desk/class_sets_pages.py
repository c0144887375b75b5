"""The desk's section /textbooks/classes: a class's textbook sets (September issue, May collection)."""

from __future__ import annotations

from fastapi import APIRouter

from server.desk.web import PREFIX

router = APIRouter(prefix=PREFIX + "/textbooks/classes", include_in_schema=False)
