"""The desk's section /media: Медиатека: список, доступ, пересканирование."""

from __future__ import annotations

from fastapi import APIRouter

from server.desk.web import PREFIX

router = APIRouter(prefix=PREFIX + "/media", include_in_schema=False)
