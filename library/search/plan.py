"""The backend-neutral match plan: groups of alternative terms, phrases and filters."""

from __future__ import annotations

from dataclasses import dataclass, field

PRIMARY = ("title_t", "author_t", "subject_t")
FIELD_TO_COLUMN = {"title": "title_t", "author": "author_t", "subject": "subject_t"}


@dataclass
class Group:
    """One query word: any of `exact` terms or terms starting with `prefix`, in `columns`."""

    exact: list[str]
    prefix: str | None = None
    columns: tuple[str, ...] | None = None
    required: bool = True
    weight: float = 1.0
    idf: float = 1.0
    word: str = ""
    corrected_to: str | None = None
    # Documents containing any of `exact` (vocabulary df, summed); None when unknown (prefix).
    df: int | None = None

    def matches(self, token: str) -> float:
        """1 for an exact term, 0.6 for a prefix completion, else 0."""
        if token in self.exact:
            return 1.0
        if self.prefix and token.startswith(self.prefix):
            return 0.6
        return 0.0


@dataclass
class PhraseSpec:
    """Adjacent terms in order."""

    terms: list[str]
    columns: tuple[str, ...] | None = None


@dataclass
class Plan:
    """What to match: required groups AND phrases, plus SQL filters on search_docs."""

    groups: list[Group] = field(default_factory=list)
    phrases: list[PhraseSpec] = field(default_factory=list)
    filters: dict = field(default_factory=dict)
    # Leave out teachers-only documents (access level 2): true unless the searcher is staff.
    hide_teachers_only: bool = True
    # Documents in the index (search_meta), for match-size estimates; 0 when unknown.
    docs: int = 0

    def estimate(self) -> float | None:
        """Expected documents matching every required group (independent words, vocabulary df);
        None when unknown (prefixes, phrases, no vocabulary)."""
        req = [g for g in self.groups if g.required]
        if not self.docs or not req or self.phrases or any(g.prefix or g.df is None for g in req):
            return None
        est = float(self.docs)
        for g in req:
            if g.df is None:  # ruled out above; narrows the type
                return None
            est *= min(1.0, g.df / self.docs)
        return est

    @property
    def has_text(self) -> bool:
        """True when there is anything for the full-text index to match."""
        return any(g.required for g in self.groups) or bool(self.phrases)

    @property
    def tiered(self) -> bool:
        """True when a primary-fields-only tier differs from the all-fields tier."""
        return any(g.required and g.columns is None for g in self.groups) or any(
            p.columns is None for p in self.phrases)

    def group_columns(self, g_columns: tuple[str, ...] | None, tier: int) -> tuple[str, ...] | None:
        """Columns a group or phrase is restricted to in a tier (tier 1: primary fields)."""
        if g_columns is not None:
            return g_columns
        return PRIMARY if tier == 1 else None


def filter_sql(filters: dict) -> tuple[list[str], dict]:
    """SQL conditions on search_docs (alias d) for the filters; the same on both backends."""
    where: list[str] = []
    params: dict = {}
    if filters.get("year_from") is not None:
        where.append("d.year >= :f_yf")
        params["f_yf"] = int(filters["year_from"])
    if filters.get("year_to") is not None:
        where.append("d.year <= :f_yt")
        params["f_yt"] = int(filters["year_to"])
    if filters.get("types"):
        names = [f"f_ty{i}" for i in range(len(filters["types"]))]
        where.append(f"d.item_type IN ({', '.join(':' + n for n in names)})")
        params.update(dict(zip(names, filters["types"])))
    if filters.get("school") is not None:  # «только наша школа»: a library.schools.Scope
        sc = filters["school"]
        siglas, op = (sc.only, "IN") if sc.only else (sc.exclude, "NOT IN")
        names = [f"f_sc{i}" for i in range(len(siglas))]
        status = ("c.status = 'available'" if filters.get("available")
                  else "c.status NOT IN ('lost', 'written_off')")
        sigla = f" AND c.sigla {op} ({', '.join(':' + n for n in names)})" if names else ""
        where.append(f"EXISTS (SELECT 1 FROM copies c WHERE c.record_id = d.record_id"
                     f" AND {status}{sigla})")
        params.update(dict(zip(names, siglas)))
    if filters.get("available"):
        where.append("d.available > 0")
    for key, col in (("language", "language"), ("age", "age_rating"), ("decade", "decade")):
        if filters.get(key) not in (None, ""):
            where.append(f"d.{col} = :f_{key}")
            params[f"f_{key}"] = int(filters[key]) if key == "decade" else filters[key]
    if filters.get("bbk"):
        where.append("d.bbk_section LIKE :f_bbk")
        params["f_bbk"] = f"{filters['bbk']}%"
    for key, col in (("author", "facet_authors"), ("subject", "facet_subjects")):
        if filters.get(key):
            where.append(f"d.{col} LIKE :f_{key}")
            params[f"f_{key}"] = f"%{filters[key]}%"
    return where, params
