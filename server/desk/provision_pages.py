"""The desk's section /textbooks/provision: provision per class and subject, needs, the order list."""

from __future__ import annotations

from fastapi import APIRouter

from server.desk.web import PREFIX

router = APIRouter(prefix=PREFIX + "/textbooks/provision", include_in_schema=False)
