"""The desk's section /reports: Отчёты: период в PDF/XLSX/CSV, должники по классам."""

from __future__ import annotations

from fastapi import APIRouter

from server.desk.web import PREFIX

router = APIRouter(prefix=PREFIX + "/reports", include_in_schema=False)
