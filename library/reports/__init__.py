"""Monitoring reports: the quarterly figures for the education authorities, with charts.

`build_report(db, period)` computes every figure from the event log and the catalogue;
`render_pdf`, `render_xlsx` and `render_csv` write it out (matplotlib, openpyxl and reportlab
are imported inside the renderers only); `key_figures(db)` gives the kiosk's service mode the
headline numbers of the current school term. See docs/REPORTS.md.
"""

from library.reports.events import record_visit
from library.reports.period import Period, PeriodError, parse_period, quarter, school_term
from library.reports.report import build_report, key_figures

__all__ = ["Period", "PeriodError", "build_report", "key_figures", "parse_period", "quarter",
           "record_visit", "school_term"]
