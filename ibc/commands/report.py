"""`ibc report --period 2026Q3 -o FILE.pdf|xlsx|csv`: the monitoring report for the authorities."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context

FORMATS = (".pdf", ".xlsx", ".csv")


def register(sub: Subparsers) -> None:
    """Add the `report` subcommand."""
    p = sub.add_parser("report", help="monitoring report (PDF with charts, XLSX, CSV)")
    p.add_argument("--period", required=True, metavar="PERIOD",
                   help="2026Q3, 2026, 2026-09, 2026-09-01..2026-11-30, term (current term), "
                        "month, last-month, quarter, last-quarter, year or school-year")
    p.add_argument("--school", metavar="SIGLA", help="one school of a union catalogue")
    p.add_argument("-o", "--output", metavar="FILE", help="FILE.pdf, FILE.xlsx or FILE.csv")
    p.add_argument("--json", action="store_true",
                   help="print the figures as JSON (all of them without -o, the summary with -o)")
    p.add_argument("--tz", metavar="ZONE", help="time zone of the school (default: this machine's)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Build the report and write it; one line on a bad option."""
    from library.reports import PeriodError, build_report, parse_period
    from library.reports.indicators import number_text

    if not args.output and not args.json:
        print("ibc report: give -o FILE.pdf|.xlsx|.csv and/or --json", file=sys.stderr)
        return 2
    suffix = Path(args.output).suffix.lower() if args.output else ""
    if args.output and suffix not in FORMATS:
        print(f"ibc report: {args.output}: the file must end in .pdf, .xlsx or .csv",
              file=sys.stderr)
        return 2
    try:
        period = parse_period(args.period, tz=args.tz)
    except (PeriodError, ValueError, KeyError) as exc:
        print(f"ibc report: {exc}", file=sys.stderr)
        return 2
    school = ctx.settings.school
    # the pupil count is this school's: another sigla of a union catalogue counts its readers
    pupils = school.pupils if args.school in (None, school.sigla) else 0
    report = build_report(ctx.db, period, sigla=args.school, school_name=school.name, pupils=pupils)
    if args.output:
        try:
            _write(report, Path(args.output), suffix)
        except OSError as exc:
            print(f"ibc report: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    if args.json:
        data = (report["summary"] | {"period": period.title, "indicators": report["indicators"]}
                if args.output else report)
        print(json.dumps(data, ensure_ascii=False, indent=None if args.output else 1))
    elif args.output:
        s = report["summary"]
        i = report["indicators"]
        print(f"{args.output}: {period.title}; выдано {s['loans']}, посещений {s['visits']}, "
              f"читателей {s['readers']}, экземпляров {s['copies']}; читаемость "
              f"{number_text(i['loans_per_reader'], 2)}, посещаемость "
              f"{number_text(i['visits_per_reader'], 2)}")
    return 0


def _write(report: dict, path: Path, suffix: str) -> None:
    if suffix == ".pdf":
        from library.reports.render_pdf import render_pdf

        render_pdf(report, path)
    elif suffix == ".xlsx":
        from library.reports.render_xlsx import render_xlsx

        render_xlsx(report, path)
    else:
        from library.reports.render_csv import render_csv

        render_csv(report, path)
