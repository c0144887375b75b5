"""`ibc irbis push [--json] [--if-configured]`: write the pending loans of the ИРБИС outbox into
the ИРБИС64 server of `[irbis]` (ils/irbis/ledger.py), in order and exactly once.

A checkout, return or renewal made with ``[circulation] backend = "irbis"`` is pushed right
after the local write; what could not be written then (ИРБИС away, a record locked by another
ИРБИС workstation) stays pending and this command — run by the systemd timer
ibc-irbis-push.timer every 2 minutes — writes it. Exits 0 when nothing is left pending, 1 when
rows stay pending (ИРБИС away or a record locked: the next run retries) or a row failed for
good (the reader or the copy is not in ИРБИС: the librarian fixes it there), 2 for bad
settings. With --if-configured an installation without ИРБИС circulation exits 0 quietly.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.context import Context

_SETTINGS_ERRORS = ("irbis_auth", "irbis_no_rights", "irbis_database_unknown")


def add_parser(psub: argparse._SubParsersAction) -> None:
    """The `push` action of `ibc irbis`."""
    pu = psub.add_parser("push", help="записать в ИРБИС64 выдачи и возвраты, ждущие отправки")
    pu.add_argument("--json", action="store_true", help="отчёт в JSON")
    pu.add_argument("--if-configured", action="store_true",
                    help="без [circulation] backend = \"irbis\" ничего не делать (для таймера)")


def run_push(args: argparse.Namespace, ctx: Context) -> int:
    """Push the outbox; print a line (or JSON) and return the exit code."""
    from ils.irbis.ledger import FAILED, IrbisConfig, IrbisLedger

    st = ctx.settings
    if st.circulation.backend != "irbis" or not st.irbis.host:
        if args.if_configured:
            return 0
        print("ibc irbis push: выдача в ИРБИС не включена: нужны [circulation] backend = "
              "\"irbis\" и [irbis] host", file=sys.stderr)
        return 2
    ledger = IrbisLedger(ctx.db, IrbisConfig.from_settings(st.irbis))
    try:
        report = ledger.push_pending(limit=10_000)
        failed = ledger.rows((FAILED,), limit=100)
    finally:
        ledger.close()
    if args.json:
        out = report.to_dict()
        out["failed_rows"] = [{"txn_id": r["txn_id"], "action": r["action"], "card": r["card"],
                               "barcode": r["barcode"], "error": r["last_error"]} for r in failed]
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(f"ИРБИС {st.irbis.host}:{st.irbis.port}: записано {len(report.done)}, "
              f"ждут {len(report.pending)}, не записать {len(report.failed)}")
        for txn, error in list(report.errors.items())[:20]:
            print(f"  {txn}: {error}")
    if any(code in _SETTINGS_ERRORS for code in report.codes.values()):
        return 2
    return 1 if report.pending or report.failed else 0
