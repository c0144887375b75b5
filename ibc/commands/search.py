"""`ibc search QUERY` and `ibc reindex`: catalogue search from the command line."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context
    from library.search.result import Hit


def register(sub: Subparsers) -> None:
    """Add the `search` and `reindex` subcommands."""
    p = sub.add_parser("search", help="search the catalogue")
    p.add_argument("query", help='query, e.g. "война и мир", author:толстой, year:2000-2010')
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="hits per page (default 20)")
    p.add_argument("--offset", type=int, default=0, metavar="N", help="hits to skip")
    p.add_argument("--facets", action="store_true", help="also count facets")
    p.add_argument("--available", action="store_true", help="only titles on the shelf now")
    p.add_argument("--audience", choices=("pupil", "teacher", "staff"), default="pupil",
                   help="who is searching: teachers-only media are found only for teacher/staff "
                        "(default: pupil)")
    p.add_argument("--school", metavar="SIGLA",
                   help="whose search: that school's copies come first in each hit's schools "
                        "(default: [school] sigla)")
    p.add_argument("--only-school", action="store_true",
                   help="only titles the school (--school, else [school] sigla) has copies of "
                        "(with --available: on its shelf)")
    p.set_defaults(run=run)
    r = sub.add_parser("reindex", help="rebuild the search index from the catalogue")
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.set_defaults(run=run_reindex)


def _hit_dict(h: Hit) -> dict:
    return {"id": h.id, "title": h.title, "authors": h.authors, "year": h.year, "isbn": h.isbn,
            "available": h.available, "copies": h.copies, "shelf": h.shelf, "type": h.type,
            "score": h.score, "highlight": h.highlight, "spans": h.spans,
            "schools": h.schools,
            **({"access": h.access, "downloadable": h.downloadable} if h.access else {})}


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Run one search and print the hits (text or JSON)."""
    from library.search import search

    if args.limit < 0 or args.offset < 0:
        print("ibc search: --limit and --offset must not be negative", file=sys.stderr)
        return 2
    from library.schools import scope

    school = args.school or ctx.settings.school.sigla
    filters: dict = {"available": True} if args.available else {}
    t0 = time.perf_counter()
    with ctx.db.transaction(write=False) as s:
        if args.only_school:
            filters["school"] = scope(s, school, ctx.settings.school.sigla)
        res = search(s, args.query, limit=args.limit, offset=args.offset, facets=args.facets,
                     filters=filters or None,
                     audience=args.audience, school=school,
                     default_school=ctx.settings.school.sigla)
    ms = (time.perf_counter() - t0) * 1000
    if args.json:
        out = {"total": res.total, "total_exact": res.total_exact,
               "hits": [_hit_dict(h) for h in res.hits], "suggestion": res.suggestion,
               "corrected_query": res.corrected_query, "ignored": res.ignored}
        if res.facets is not None:
            out["facets"] = res.facets
        print(json.dumps(out, ensure_ascii=False))
        return 0
    more = "" if res.total_exact else "+"
    print(f"{res.total}{more} found ({ms:.0f} ms)")
    if res.suggestion:
        print(res.suggestion)
    for i, h in enumerate(res.hits, args.offset + 1):
        who = "; ".join(h.authors[:2])
        where = f"на полке: {h.available} из {h.copies}" + (f", {h.shelf}" if h.shelf else "")
        print(f"{i:3}. {h.highlight.get('title', h.title)}" + (f" — {who}" if who else "")
              + (f" ({h.year})" if h.year else "") + f"  [{where}]")
        if len(h.schools) > 1:  # a union catalogue: who holds what
            print("     " + "; ".join(f"{e['name']}: на полке {e['available']} из {e['total']}"
                                      for e in h.schools))
    for key, values in (res.facets or {}).items():
        if values:
            print(f"{key}: " + ", ".join(f"{v['label']} ({v['count']})" for v in values[:8]))
    return 0


def run_reindex(args: argparse.Namespace, ctx: Context) -> int:
    """Rebuild the whole index in one transaction and report the time."""
    from library.search import reindex_all
    from library.storage.maintenance import after_bulk_write

    t0 = time.perf_counter()
    with ctx.db.transaction() as s:
        n = reindex_all(s)
    secs = time.perf_counter() - t0
    m = after_bulk_write(ctx.db, [])  # the index tables, committed: VACUUM runs outside
    if args.json:
        print(json.dumps({"records": n, "seconds": round(secs, 2), "maintenance": m.to_dict()}))
    else:
        print(f"reindexed {n} records in {secs:.1f} s; planner statistics: {m.action} of "
              f"{', '.join(m.tables)} ({m.seconds:.1f} s)")
    return 0
