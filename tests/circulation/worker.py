"""Subprocess worker for concurrency and crash tests: checkouts from argv, one line per outcome."""

import datetime as dt
import os
import sys

from config.settings import load_settings
from library.circulation import errors as E
from library.circulation.rules import Policy
from library.circulation.service import CirculationService
from library.storage.database import Database


def main() -> None:
    url, card, prefix, *barcodes = sys.argv[1:]
    db = Database(url)
    policy = Policy.from_settings(load_settings(environ=dict(os.environ)).circulation)
    svc = CirculationService(db, policy, today=lambda: dt.date(2026, 10, 5))
    for bc in barcodes:
        try:
            out = svc.checkout(card, bc, f"{prefix}-{bc}")
            print(f"ok {bc} {out.loan_id}", flush=True)
        except E.CirculationError as exc:
            print(f"no {bc} {exc.code}", flush=True)
    db.dispose()


if __name__ == "__main__":
    main()
