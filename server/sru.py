"""SRU 1.2 at /sru: explain and searchRetrieve with CQL, records as MARCXML (docs/SRU.md).

Anonymous and read-only: GET, and POST with a form body as SRU allows (a read-only server lets
this POST through: it writes nothing). Queries are parsed by the kept `cql-parser` library
(module ``cql``) into library.search.cql's tree, which is the one home of the indexes and
relations; records come from library.marc.catalogue_xml, holdings per school from
library.schools.holdings. No reader data is read here at all.

Every answer is HTTP 200 with XML in the SRU namespace; a refusal is a diagnostic
(info:srw/diagnostic/1/N) in the answer, as SRU 1.2 requires.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response

from library.errors import IbcError
from library.search import cql as q

if TYPE_CHECKING:
    from server.app import ServerState

PATH = "/sru"
VERSION = "1.2"
VERSIONS = ("1.1", "1.2")  # 1.1 requests are answered as 1.2 (the same elements)
DEFAULT_RECORDS = 10
MAX_RECORDS = 50  # a larger maximumRecords is answered with at most this many
MAX_START = 100_000  # startRecord beyond this: diagnostic 6 (OFFSET costs grow with it)
MAX_QUERY = 2_000  # characters of a CQL query
MEDIA_TYPE = "text/xml; charset=utf-8"
SRW = "http://www.loc.gov/zing/srw/"
DIAG = "http://www.loc.gov/zing/srw/diagnostic/"
ZEEREX = "http://explain.z3950.org/dtd/2.0/"
HOLDINGS_NS = "info:ibc/sru/holdings-v1"
DIAG_SCHEMA = "info:srw/schema/1/diagnostics-v1.1"


@dataclass(frozen=True)
class Schema:
    """A record schema: its short name, identifier, MARC family and title."""

    name: str
    identifier: str
    family: str
    title: str


SCHEMAS = (
    Schema("rusmarc", "info:ibc/schema/rusmarcxml-v1", "rusmarc",
           "RUSMARC в синтаксисе MARCXML: запись, как она хранится (RUSMARC as stored)"),
    Schema("marcxml", "info:srw/schema/1/marcxml-v1.1", "marc21",
           "MARC21 slim (MARCXML); записи RUSMARC строятся из хранимых полей"),
)
DEFAULT_SCHEMA = SCHEMAS[0]
_SCHEMA_NAMES = {**{s.name.lower(): s for s in SCHEMAS}, **{s.identifier.lower(): s for s in SCHEMAS},
                 "marc21": SCHEMAS[1], "marc21-xml": SCHEMAS[1], "marcxml-v1.1": SCHEMAS[1]}
PACKINGS = ("xml", "string")
KNOWN = frozenset({"operation", "version", "query", "startRecord", "maximumRecords",
                   "recordPacking", "recordSchema", "recordXPath", "resultSetTTL", "sortKeys",
                   "stylesheet", "extraRequestData"})

# Diagnostic numbers → their SRU 1.2 message (info:srw/diagnostic/1/).
MESSAGES = {
    1: "General system error", 4: "Unsupported operation", 5: "Unsupported version",
    6: "Unsupported parameter value", 7: "Mandatory parameter not supplied",
    8: "Unsupported parameter", 10: "Query syntax error", 15: "Unsupported context set",
    16: "Unsupported index", 19: "Unsupported relation", 20: "Unsupported relation modifier",
    27: "Empty term unsupported", 28: "Masking character not supported",
    29: "Masked words too short", 36: "Term in invalid format for index or relation",
    37: "Unsupported boolean operator", 38: "Too many boolean operators in query",
    39: "Proximity not supported", 46: "Unsupported boolean modifier",
    61: "First record position out of range", 66: "Unknown schema for retrieval",
    67: "Record not available in this schema", 71: "Unsupported record packing",
    72: "XPath retrieval unsupported", 80: "Sort not supported", 110: "Stylesheets not supported",
}

router = APIRouter(tags=["sru"])
log = logging.getLogger("ibc.sru")
logging.getLogger("cql").setLevel(logging.CRITICAL)  # the parser logs every bad query as ERROR


class Diagnostic(IbcError):
    """A fatal SRU diagnostic: the request is answered with it and no records."""

    code = "sru_diagnostic"

    def __init__(self, number: int, details: str = ""):
        super().__init__(f"{number}: {details}")
        self.number, self.details = number, details


def diagnostic_xml(number: int, details: str = "", message: str | None = None) -> str:
    """One <diagnostic> element in the SRU diagnostic namespace."""
    text = message or MESSAGES.get(number, "")
    return (f'<diagnostic xmlns="{DIAG}"><uri>info:srw/diagnostic/1/{number}</uri>'
            + (f"<details>{escape(details)}</details>" if details else "")
            + (f"<message>{escape(text)}</message>" if text else "") + "</diagnostic>")


def _answer(body: str) -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + body, media_type=MEDIA_TYPE)


@router.get(PATH, summary="SRU 1.2: explain and searchRetrieve (CQL); docs/SRU.md")
async def sru_get(request: Request) -> Response:
    """An SRU request in the query string."""
    return await _handle(request, list(request.query_params.multi_items()))


@router.post(PATH, summary="SRU 1.2 over POST (application/x-www-form-urlencoded)")
async def sru_post(request: Request) -> Response:
    """An SRU request as a form body (SRU 1.2 «HTTP POST»)."""
    form = await request.form()
    return await _handle(request, [(k, v) for k, v in form.multi_items() if isinstance(v, str)])


async def _handle(request: Request, items: list[tuple[str, str]]) -> Response:
    st: ServerState = request.app.state.ibc
    host = request.url.hostname or st.settings.server.host
    port = request.url.port or (443 if request.url.scheme == "https" else 80)
    body = await anyio.to_thread.run_sync(answer, st, items, host, port)
    return _answer(body)


def answer(st: ServerState, items: list[tuple[str, str]], host: str, port: int) -> str:
    """The XML answer (without the XML declaration) to one SRU request."""
    params: dict[str, str] = {}
    for key, value in items:
        params.setdefault(key, value)
    operation = params.get("operation")
    searching = operation == "searchRetrieve"
    try:
        for key in params:
            if key not in KNOWN and not key.startswith("x-"):
                raise Diagnostic(8, key)
        if operation is None and "query" in params:
            raise Diagnostic(7, "operation")
        if operation not in (None, "explain", "searchRetrieve"):
            raise Diagnostic(4, operation or "")
        return search_retrieve(st, params) if searching else explain(st, host, port, params)
    except Diagnostic as d:
        return _search_diagnostic(d) if searching else _explain_diagnostic(d)


def _check_version(params: dict[str, str], required: bool) -> None:
    version = params.get("version")
    if version is None:
        if required:
            raise Diagnostic(7, "version")
        return
    if version not in VERSIONS:
        raise Diagnostic(5, VERSION)


def _explain_diagnostic(d: Diagnostic) -> str:
    return (f'<explainResponse xmlns="{SRW}"><version>{VERSION}</version>'
            f"<diagnostics>{diagnostic_xml(d.number, d.details)}</diagnostics></explainResponse>")


def _search_diagnostic(d: Diagnostic) -> str:
    return (f'<searchRetrieveResponse xmlns="{SRW}"><version>{VERSION}</version>'
            f"<numberOfRecords>0</numberOfRecords>"
            f"<diagnostics>{diagnostic_xml(d.number, d.details)}</diagnostics>"
            "</searchRetrieveResponse>")


# --- explain -----------------------------------------------------------------------------------
def explain(st: ServerState, host: str, port: int, params: dict[str, str]) -> str:
    """The explainResponse: a ZeeRex 2.0 record naming the indexes, schemas and limits."""
    _check_version(params, required=False)
    packing = params.get("recordPacking", "xml")
    if packing not in PACKINGS:
        raise Diagnostic(71, packing)
    school = st.settings.school
    sets = "".join(f"<set name={quoteattr(p)} identifier={quoteattr(uri)}/>"
                   for p, uri in q.CONTEXT_SETS.items())
    indexes = "".join(
        f"<index search=\"true\" scan=\"false\" sort=\"false\"><title>{escape(i.title)}</title>"
        f"<map><name set={quoteattr(i.prefix)}>{escape(i.name)}</name></map><configInfo>"
        + "".join(f'<supports type="relation">{escape(r)}</supports>' for r in i.relations)
        + "</configInfo></index>" for i in q.INDEXES)
    schemas = "".join(
        f"<schema identifier={quoteattr(s.identifier)} name={quoteattr(s.name)} sort=\"false\" "
        f"retrieve=\"true\"><title>{escape(s.title)}</title></schema>" for s in SCHEMAS)
    supports = "".join(
        f'<supports type="relation">{escape(r)}</supports>'
        for r in ("=", "==", "<>", "<", ">", "<=", ">=", "all", "any", "adj", "within"))
    zeerex = (
        f'<explain xmlns="{ZEEREX}">'
        f'<serverInfo protocol="SRU" version="{VERSION}" transport="http">'
        f"<host>{escape(host)}</host><port>{int(port)}</port><database>sru</database></serverInfo>"
        f'<databaseInfo><title lang="ru" primary="true">{escape("Каталог: " + school.name)}</title>'
        f'<description lang="ru">{escape(_description())}</description></databaseInfo>'
        f"<indexInfo>{sets}{indexes}</indexInfo>"
        f"<schemaInfo>{schemas}</schemaInfo>"
        f'<configInfo><default type="numberOfRecords">{DEFAULT_RECORDS}</default>'
        f'<default type="contextSet">dc</default><default type="index">cql.serverChoice</default>'
        f'<default type="relation">=</default>'
        f'<default type="retrieveSchema">{DEFAULT_SCHEMA.name}</default>'
        f'<setting type="maximumRecords">{MAX_RECORDS}</setting>'
        f"{supports}</configInfo></explain>")
    record = _record(ZEEREX, packing, zeerex, None)
    return (f'<explainResponse xmlns="{SRW}"><version>{VERSION}</version>'
            f"{record}</explainResponse>")


def _description() -> str:
    return ("Электронный каталог школьных библиотек (ИБЦ): все записи и экземпляры по школам. "
            "Поиск на CQL, записи в MARCXML (RUSMARC как хранится или MARC21). "
            "School library union catalogue; see docs/SRU.md.")


def _record(schema: str, packing: str, data: str, position: int | None, extra: str = "") -> str:
    payload = data if packing == "xml" else escape(data)
    return (f"<record><recordSchema>{escape(schema)}</recordSchema>"
            f"<recordPacking>{packing}</recordPacking><recordData>{payload}</recordData>"
            + (f"<recordPosition>{position}</recordPosition>" if position is not None else "")
            + (f"<extraRecordData>{extra}</extraRecordData>" if extra else "") + "</record>")


# --- searchRetrieve ----------------------------------------------------------------------------
def _int(params: dict[str, str], key: str, default: int, low: int) -> int:
    raw = params.get(key)
    if raw is None or raw == "":
        return default
    if not raw.strip().isdigit() or int(raw) < low:
        raise Diagnostic(6, key)
    return int(raw)


def search_retrieve(st: ServerState, params: dict[str, str]) -> str:
    """The searchRetrieveResponse of a request (Diagnostic for a refused one)."""
    _check_version(params, required=True)
    query = params.get("query")
    if query is None:
        raise Diagnostic(7, "query")
    for key, number in (("sortKeys", 80), ("stylesheet", 110), ("recordXPath", 72)):
        if params.get(key):
            raise Diagnostic(number, key)
    packing = params.get("recordPacking", "xml")
    if packing not in PACKINGS:
        raise Diagnostic(71, packing)
    schema = DEFAULT_SCHEMA
    if params.get("recordSchema"):
        asked = _SCHEMA_NAMES.get(params["recordSchema"].lower())
        if asked is None:
            raise Diagnostic(66, params["recordSchema"])
        schema = asked
    start = _int(params, "startRecord", 1, 1)
    if start > MAX_START:
        raise Diagnostic(6, f"startRecord (at most {MAX_START})")
    maximum = min(_int(params, "maximumRecords", DEFAULT_RECORDS, 0), MAX_RECORDS)
    if len(query) > MAX_QUERY:
        raise Diagnostic(6, f"query (at most {MAX_QUERY} characters)")
    tree, prefixes = parse_cql(query)
    from library.marc.catalogue_xml import records_xml
    from library.schools import holdings

    with st.db.session() as session:
        try:
            found = q.find(session, tree, offset=start - 1, limit=maximum, audience=None,
                           prefixes=prefixes)
        except q.CqlError as exc:
            raise Diagnostic(exc.diagnostic, exc.details) from None
        if found.total and start > found.total:
            raise Diagnostic(61, str(start))
        xml = records_xml(session, found.record_ids, schema.family)
        held = holdings(session, found.record_ids, default_sigla=st.settings.school.sigla)
    parts = []
    for i, rid in enumerate(found.record_ids):
        data = xml.get(rid)
        parts.append(_surrogate(packing, start + i) if data is None else
                     _record(schema.identifier, packing, data, start + i,
                             _holdings_xml(held.get(rid, []))))
    records = "".join(parts)
    nxt = start + len(found.record_ids)
    return (f'<searchRetrieveResponse xmlns="{SRW}"><version>{VERSION}</version>'
            f"<numberOfRecords>{found.total}</numberOfRecords>"
            + (f"<records>{records}</records>" if records else "")
            + (f"<nextRecordPosition>{nxt}</nextRecordPosition>"
               if found.record_ids and nxt <= found.total else "")
            + _echo(query, start, maximum, packing, schema) + "</searchRetrieveResponse>")


def _echo(query: str, start: int, maximum: int, packing: str, schema: Schema) -> str:
    return (f"<echoedSearchRetrieveRequest><version>{VERSION}</version>"
            f"<query>{escape(query)}</query><startRecord>{start}</startRecord>"
            f"<maximumRecords>{maximum}</maximumRecords><recordPacking>{packing}</recordPacking>"
            f"<recordSchema>{escape(schema.name)}</recordSchema></echoedSearchRetrieveRequest>")


def _surrogate(packing: str, position: int) -> str:
    return _record(DIAG_SCHEMA, packing, diagnostic_xml(67, "the stored MARC cannot be read"),
                   position)


def _holdings_xml(entries: Iterable[dict[str, Any]]) -> str:
    """Copies per school: sigla, name, available, total (library.schools.holdings)."""
    schools = "".join(
        f"<school sigla={quoteattr(str(e['sigla']))} available=\"{int(e['available'])}\" "
        f"total=\"{int(e['total'])}\"><name>{escape(str(e['name']))}</name></school>"
        for e in entries)
    return f'<holdings xmlns="{HOLDINGS_NS}">{schools}</holdings>'


# --- CQL ---------------------------------------------------------------------------------------
def parse_cql(query: str) -> tuple[q.Node, dict[str, str]]:
    """The library's query tree of a CQL string and the prefixes it assigns; Diagnostic 10 for
    a syntax error or an empty query, 80 for sortBy."""
    import cql
    from cql.lexer import CQLLexerError
    from cql.parser import CQLParserError

    if not query.strip():
        raise Diagnostic(10, "the query is empty")
    try:
        parsed = cql.parse(query)  # builds its own lexer and parser: safe on any thread
    except (CQLLexerError, CQLParserError) as exc:
        raise Diagnostic(10, str(exc.args[0]) if exc.args else "") from None
    except (ValueError, TypeError, IndexError, AttributeError, RecursionError) as exc:
        log.info("CQL parser failed on %r: %s", query, exc)
        raise Diagnostic(10, "the query cannot be parsed") from None
    if parsed is None or parsed.root is None:
        raise Diagnostic(10, "the query cannot be parsed")
    if getattr(parsed.root, "sortSpecs", None):
        raise Diagnostic(80, "sortBy")
    prefixes: dict[str, str] = {}
    return _tree(parsed.root, prefixes), prefixes


def _tree(node: Any, prefixes: dict[str, str]) -> q.Node:
    for p in getattr(node, "prefixes", None) or []:
        prefixes[str(p.prefix or "")] = str(p.uri)
    if hasattr(node, "operator"):
        mods = tuple(str(m.toCQL()) for m in (node.operator.modifiers or []))
        return q.Bool(str(node.operator.value), _tree(node.left, prefixes),
                      _tree(node.right, prefixes), mods)
    relation = node.relation
    if node.index is None or relation is None:
        return q.Clause("cql.serverChoice", "=", str(node.term))
    mods = tuple(str(m.toCQL()) for m in (relation.modifiers or []))
    return q.Clause(str(node.index), str(relation.comparitor), str(node.term), mods)
