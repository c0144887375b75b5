"""The desk's section /catalogue: Каталог: поиск, запись с экземплярами, загрузка и выгрузка MARC."""

from __future__ import annotations

from fastapi import APIRouter

from server.desk.web import PREFIX

router = APIRouter(prefix=PREFIX + "/catalogue", include_in_schema=False)
