"""The desk's section /textbooks: textbook titles (subject, grades, УМК, federal list number)."""

from __future__ import annotations

from fastapi import APIRouter

from server.desk.web import PREFIX

router = APIRouter(prefix=PREFIX + "/textbooks", include_in_schema=False)
