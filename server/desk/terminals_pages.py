"""The desk's section /terminals: Терминалы: подключение, список, отключение, конфликты без сети."""

from __future__ import annotations

from fastapi import APIRouter

from server.desk.web import PREFIX

router = APIRouter(prefix=PREFIX + "/terminals", include_in_schema=False)
