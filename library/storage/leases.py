"""The ``leases`` table (migration 0021_server_state): named leases with a holder and an expiry,
the one home of "who owns this now" shared by every server process (library/leases.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from library.storage.models import Base


class Lease(Base):
    """One named lease: ``holder`` owns ``name`` until ``expires_at`` (a media station's
    control, a server process's heartbeat ``boot:<id>``, a start-up lock ``lock:<what>``)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
