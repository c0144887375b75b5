"""Typed, validated settings of every role, loaded from TOML and `IBC_*` environment variables.

Order of precedence (later wins): the shipped defaults (`config/defaults.toml`), the settings
file (`--config FILE`, else `$IBC_CONFIG`, else `/etc/ibc/ibc.toml` when it exists), then
environment variables named `IBC_<SECTION>__<KEY>` (for example `IBC_PROJECTOR__HOST`) plus the
short forms `IBC_DATABASE_URL` and `IBC_LANGUAGE`. Any unknown key, wrong type or bad URL raises
`SettingsError` naming the file, the key and the reason; callers print it and stop.
"""

from __future__ import annotations

import os

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (Ubuntu 22.04)
    import tomli as tomllib  # type: ignore[no-redef]
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

DEFAULTS_FILE = Path(__file__).with_name("defaults.toml")
SYSTEM_FILE = Path("/etc/ibc/ibc.toml")
ENV_PREFIX = "IBC_"
ENV_SHORTCUTS = {"IBC_DATABASE_URL": ("database", "url"), "IBC_LANGUAGE": ("ui", "language")}


class SettingsError(Exception):
    """A settings file or variable is wrong; the message names where, which key and why."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SchoolSettings(_Section):
    """Who this library is."""

    name: str = "Школьный ИБЦ"
    sigla: str = Field("ИБЦ", min_length=1, max_length=32, description="holding-library code")
    id: str = Field("school", pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="id used in discovery")
    last_grade: int = Field(11, ge=1, le=11, description="pupils of this grade leave at the school-year move")
    pupils: int = Field(0, ge=0, le=100_000,
                        description="pupils of the school, for the reports' coverage and provision; "
                                    "0 = count the pupils among the registered readers")


class DatabaseSettings(_Section):
    """Where the catalogue lives: empty url means SQLite under the data directory."""

    url: str = ""
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value:
            return value
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {value!r}") from exc
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql")
        return value


class UiSettings(_Section):
    """Language and look of user-facing text."""

    language: Literal["ru", "en"] = "ru"
    idle_timeout_s: int = Field(60, ge=10, le=3600)
    personal_idle_timeout_s: int = Field(
        30, ge=10, le=3600,
        description="idle seconds before a screen showing a reader's data ends the session")
    large_text: bool = False


class ScannerSettings(_Section):
    """Barcode sources: camera and/or USB keyboard-wedge scanner."""

    camera: str = Field("0", description="camera index, video file or URL; empty disables")
    confirm_frames: int = Field(2, ge=1, le=10)
    repeat_suppress_s: float = Field(3.0, ge=0, le=60)
    usb: bool = True


class PrinterSettings(_Section):
    """Receipt/card printer over IPP; empty uri means discover via zeroconf."""

    uri: str = ""
    name: str = ""
    enabled: bool = True


class ProjectorSettings(_Section):
    """PJLink projector; empty host means discover with class 2 SRCH."""

    host: str = ""
    port: int = Field(4352, ge=1, le=65535)
    password: str = ""
    input: str = "HDMI1"
    timeout_s: float = Field(5.0, gt=0, le=60)
    off_after_min: int = Field(0, ge=0, le=600)


class ServerSettings(_Section):
    """The school server's HTTP API (server role) or where to find it (terminal role)."""

    host: str = "0.0.0.0"
    port: int = Field(8470, ge=1, le=65535)
    url: str = Field("", description="fixed server URL for terminals; empty means zeroconf")
    advertise: bool = True
    interfaces: list[str] = Field([], description="zeroconf bind addresses; empty = all")
    session_idle_s: int = Field(120, ge=10, le=3600, description="reader session idle expiry")
    enrol_code_minutes: int = Field(15, ge=1, le=1440, description="one-time enrolment code life")
    pin_failures_per_minute: int = Field(
        10, ge=1, le=1000,
        description="distinct cards failing on one terminal in a minute (unknown card, wrong PIN, "
                    "refused offline forward) before it gets 429")
    pin_hash_concurrency: int = Field(2, ge=1, le=16, description="PIN hashes computed at once")
    max_body_bytes: int = Field(65536, ge=1024, le=16 * 1024 * 1024)
    offline_policy: Literal["seen_cards", "return_only", "disabled"] = Field(
        "seen_cards", description="what a terminal queues while the server is unreachable")
    tls: Literal["on", "off"] = Field(
        "on", description="HTTPS for the terminals (on); off = plain HTTP, for development only")
    tls_cert: str = Field("", max_length=4096, description=(
        "the school's own certificate (PEM); empty = <data_dir>/tls/server.crt, self-signed, "
        "made at install or at first start"))
    tls_key: str = Field("", max_length=4096,
                         description="its private key (PEM); empty = <data_dir>/tls/server.key")
    workers: int = Field(1, ge=1, le=64, description=(
        "worker processes of `ibc serve` on one database (every shared state lives there); "
        "more than 1 needs PostgreSQL or an SQLite file in WAL mode and [media] station = off"))
    read_only: bool = Field(False, description=(
        "serve searches, records and the change feed only (a PostgreSQL hot standby): no "
        "migration, every write answers 503 read_only (docs/SERVER.md)"))
    primary_url: str = Field("", max_length=500, description=(
        "a read-only server: the primary server's URL, named in its 503 read_only answers"))
    trusted_proxies: list[str] = Field([], max_length=32, description=(
        "reverse proxies (addresses or networks) whose X-Forwarded-For names the client; empty "
        "= no forwarding header is believed, the direct peer is the client (guess limits and "
        "the audit log count it)"))

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        import ipaddress

        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"not an address or network: {entry[:60]!r}") from None
        return [entry.strip() for entry in value]


class DeskSettings(_Section):
    """The librarian's desk in the browser (`/desk`, docs/DESK.md): sessions and login limits."""

    idle_minutes: int = Field(30, ge=1, le=720, description="a desk session ends after this idle time")
    max_hours: int = Field(12, ge=1, le=168, description="a desk session ends this long after login")
    login_max_failures: int = Field(5, ge=1, le=100,
                                    description="failed logins for one account name before a lock")
    ip_max_failures: int = Field(20, ge=1, le=1000,
                                 description="failed logins from one client address before a lock")
    login_window_min: int = Field(15, ge=1, le=1440, description="the failed logins counted within")
    login_lock_min: int = Field(15, ge=1, le=10080, description="how long a name or address stays locked")
    upload_max_mb: int = Field(50, ge=1, le=2048,
                               description="the largest MARC file the catalogue's upload takes, in MB")


class OpacSettings(_Section):
    """The reader's account in the public catalogue (`/opac/account`, docs/OPAC.md): sessions
    and the per-address sign-in limit (the per-card PIN limit is `[circulation]`'s)."""

    idle_minutes: int = Field(15, ge=1, le=720, description="an OPAC session ends after this idle time")
    max_hours: int = Field(12, ge=1, le=168, description="an OPAC session ends this long after sign-in")
    ip_max_failures: int = Field(20, ge=1, le=1000,
                                 description="failed sign-ins from one client address before a lock")
    login_window_min: int = Field(15, ge=1, le=1440, description="the failed sign-ins counted within")
    login_lock_min: int = Field(15, ge=1, le=10080, description="how long an address stays locked")


class MediaSettings(_Section):
    """Media library folders and playback output."""

    roots: list[str] = []
    display: str = Field("auto", max_length=64, description=(
        "the projector's output: auto (the output that is not the touch panel; the whole "
        "screen when there is one) | an output name as xrandr --listmonitors prints it "
        "(HDMI-1) | all | N (the N-th output from the left)"))
    audio_output: str = Field("", max_length=200, description=(
        "empty (VLC's choice) | hdmi | speakers | module[:device], e.g. alsa:hdmi:CARD=PCH,DEV=3"))

    @field_validator("display", mode="before")
    @classmethod
    def _display(cls, value: Any) -> Any:
        # Before 0.9 `display` was an X screen number, 0 being the default screen.
        if isinstance(value, int) and not isinstance(value, bool):
            return "auto" if value == 0 else str(value)
        if isinstance(value, str) and any(ord(ch) < 32 for ch in value):
            raise ValueError("control characters are not allowed")
        return value
    station: Literal["off", "on", "headless"] = Field(
        "off", description="the server drives a media station: off | on (VLC on the display) "
                           "| headless (dummy outputs, for checks)")
    control_lease_s: int = Field(120, ge=0, le=86400, description=(
        "the teacher who last controlled the server's station keeps it this many seconds after "
        "their last command; other teachers are refused meanwhile (0 = anyone, any time)"))


class PlacesSettings(_Section):
    """What the kiosk says on return, and which place is the returns cart (docs/PLACES.md)."""

    returns: Literal["cart", "shelf", "desk"] = Field(
        "cart", description="where a returned book goes: cart (the returns cart, default) | "
                            "shelf (its own place) | desk (the librarian's desk)")
    return_note: str = Field("", max_length=200,
                             description="the library's own words on return; empty = the kiosk's")
    return_place: str = Field("", max_length=100,
                              description="the place (by name) the kiosk highlights on return")

    @field_validator("return_note", "return_place")
    @classmethod
    def _plain_text(cls, value: str) -> str:
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError("control characters are not allowed")
        return value.strip()


class LibrarySettings(_Section):
    """Catalogue extras kept as files: cover images."""

    covers_dir: str = Field("", description="cover images named by ISBN or copy barcode; "
                                            "empty = <data_dir>/covers")
    covers_max_kb: int = Field(2048, ge=16, le=65536, description="larger cover files are ignored")


class LoanRuleSettings(_Section):
    """Loan terms for one reader category and item type."""

    loan_days: int = Field(14, ge=0, le=400, description="0 = not for loan")
    renewals: int = Field(2, ge=0, le=20)
    renew_days: int = Field(14, ge=1, le=400)
    school_year: bool = Field(False, description="due at the end of the school year (textbooks)")


def _rules(book: int, renewals: int, media: int) -> dict[str, LoanRuleSettings]:
    return {
        "book": LoanRuleSettings(loan_days=book, renewals=renewals, renew_days=book),
        "textbook": LoanRuleSettings(loan_days=1, renewals=0, school_year=True),
        "reference": LoanRuleSettings(loan_days=0, renewals=0),
        "periodical": LoanRuleSettings(loan_days=7, renewals=1, renew_days=7),
        "media": LoanRuleSettings(loan_days=media, renewals=1, renew_days=media),
    }


class CategorySettings(_Section):
    """What one reader category may borrow."""

    max_items: int = Field(5, ge=0, le=500)
    check_age: bool = True
    max_holds: int = Field(3, ge=0, le=100, description="holds at once (0 = may not place holds)")
    rules: dict[str, LoanRuleSettings] = Field(default_factory=lambda: _rules(14, 2, 7))


class CirculationSettings(_Section):
    """Loan rules, blocks, calendar and privacy; the defaults suit a Russian school."""

    pupil: CategorySettings = Field(default_factory=CategorySettings)
    teacher: CategorySettings = Field(
        default_factory=lambda: CategorySettings(max_items=30, check_age=False, max_holds=10,
                                 rules=_rules(30, 3, 14))
    )
    staff: CategorySettings = Field(
        default_factory=lambda: CategorySettings(max_items=10, check_age=False, max_holds=10,
                                 rules=_rules(30, 2, 14))
    )
    block_on_overdue: bool = True
    block_on_lost: bool = True
    renew_overdue: bool = False
    backend: Literal["local", "irbis"] = Field(
        "local", description="where loans are written: local = this database only; irbis = also "
                             "the readers' RDR records and 910^a of the [irbis] server")
    closed_weekdays: list[int] = Field([7], description="ISO weekdays the library is closed (7 = Sunday)")
    holidays: list[str] = Field(
        [], description="closed dates YYYY-MM-DD or ranges YYYY-MM-DD..YYYY-MM-DD"
    )
    school_year_end: str = Field("05-31", pattern=r"^\d\d-\d\d$", description="MM-DD textbooks are due")
    require_pin: bool = False
    pin_min_digits: int = Field(4, ge=4, le=8, description="shortest PIN a reader may set")
    pin_max_digits: int = Field(8, ge=4, le=8, description="longest PIN a reader may set")
    pin_self_set: bool = Field(
        True, description="a reader without a PIN may set one at a kiosk (session by card alone)")
    pin_max_failures: int = Field(5, ge=1, le=100, description="wrong PINs per card before a lock")
    pin_failure_window_min: int = Field(15, ge=1, le=1440, description="the wrong PINs counted within")
    pin_lock_min: int = Field(15, ge=1, le=10080, description="how long a card stays locked")
    anonymise_after_days: int = Field(30, ge=0, le=3650)
    archived_keep_days: int = Field(
        365, ge=0, le=3650, description="days an archived leaver keeps the name before anonymisation")

    @model_validator(mode="after")
    def _pin_lengths(self) -> CirculationSettings:
        if self.pin_min_digits > self.pin_max_digits:
            raise ValueError("pin_min_digits is more than pin_max_digits")
        return self

    @field_validator("closed_weekdays")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if any(d < 1 or d > 7 for d in value) or len(set(value)) == 7:
            raise ValueError("weekdays are 1..7 and at least one day must be open")
        return value

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: list[str]) -> list[str]:
        import datetime as dt

        for item in value:
            for part in item.split(".."):
                try:
                    dt.date.fromisoformat(part.strip())
                except ValueError:
                    raise ValueError(f"not a date or date range: {item!r}") from None
        return value


class HoldsSettings(_Section):
    """Holds (reservations, library/circulation/holds.py): a reader queues for a book that is
    out; the returned copy waits for them on the hold shelf."""

    enabled: bool = Field(True, description="readers may place holds")
    pickup_days: int = Field(5, ge=1, le=60,
                             description="open days a returned copy waits on the hold shelf")
    on_shelf: bool = Field(False, description="a hold may be placed on a book that is on the shelf")
    queue_days: int = Field(0, ge=0, le=3650,
                            description="a queued hold expires after N days (0 = never)")
    shelf_note: str = Field("", max_length=200,
                            description="where the hold shelf is; empty = «полка заказов у "
                                        "стола библиотекаря»")


class IrbisSettings(_Section):
    """A school whose system of record is ИРБИС64 (docs/IRBIS.md): the server pulls the catalogue
    from it (`ibc irbis sync`) and may write circulation into its readers' database."""

    host: str = Field("", max_length=255, description="the ИРБИС64 server; empty = no ИРБИС")
    port: int = Field(6666, ge=1, le=65535)
    user: str = Field("", max_length=100, description="the ИРБИС user (its client.mnu/ini)")
    password: SecretStr = Field(SecretStr(""), description="its password (never shown or logged)")
    database: str = Field("IBIS", pattern=r"^[A-Za-z0-9_]{1,32}$",
                          description="the catalogue database")
    readers_database: str = Field("RDR", pattern=r"^[A-Za-z0-9_]{1,32}$",
                                  description="the readers' database")
    sigla: str = Field("", max_length=32,
                       description="copies (910^d) of this holding only; empty = every copy")
    workstation: str = Field("C", pattern=r"^[A-Z]$",
                             description="the workstation (АРМ) the server registers as: "
                                         "C = Каталогизатор, B = Книговыдача")
    timeout_s: float = Field(10.0, gt=0, le=300, description="seconds a request may take")

    @field_validator("host", "user", "sigla")
    @classmethod
    def _plain(cls, value: str) -> str:
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError("control characters are not allowed")
        return value.strip()

    @field_validator("password", mode="before")
    @classmethod
    def _password(cls, value: Any) -> Any:
        # `password = 12345` in TOML is a number; a password is its text.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


class Z3950Settings(_Section):
    """The Z39.50 front on Debian's Zebra (docs/Z3950.md): `ibc z3950 build` (nightly timer)
    indexes the public catalogue, `ibc z3950 serve` (ibc-z3950.service) runs zebrasrv on it."""

    enabled: bool = Field(False, description="build and serve the Z39.50 register")
    listen: str = Field("127.0.0.1", max_length=255,
                        description="the address zebrasrv listens on (0.0.0.0 = the whole LAN)")
    port: int = Field(2100, ge=1, le=65535, description="the Z39.50 port (210 needs root)")
    dir: str = Field("", max_length=4096,
                     description="the Zebra directory; empty = <data_dir>/z3950")

    @field_validator("listen", "dir")
    @classmethod
    def _plain_z(cls, value: str) -> str:
        if any(ord(ch) < 33 or ord(ch) == 127 or ch in "<>&\"'" for ch in value):
            raise ValueError("spaces, control characters and <>&\"' are not allowed")
        return value


class Settings(_Section):
    """All settings of one installation."""

    circulation: CirculationSettings = Field(default_factory=CirculationSettings)
    holds: HoldsSettings = Field(default_factory=HoldsSettings)

    school: SchoolSettings = SchoolSettings()
    database: DatabaseSettings = DatabaseSettings()
    ui: UiSettings = UiSettings()
    scanner: ScannerSettings = ScannerSettings()
    printer: PrinterSettings = PrinterSettings()
    projector: ProjectorSettings = ProjectorSettings()
    server: ServerSettings = ServerSettings()
    desk: DeskSettings = Field(default_factory=DeskSettings)
    opac: OpacSettings = Field(default_factory=OpacSettings)
    media: MediaSettings = MediaSettings()
    places: PlacesSettings = Field(default_factory=PlacesSettings)
    library: LibrarySettings = Field(default_factory=LibrarySettings)
    irbis: IrbisSettings = Field(default_factory=IrbisSettings)
    z3950: Z3950Settings = Field(default_factory=Z3950Settings)
    data_dir: str = Field("", description="where the SQLite file and caches live; empty = default")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise SettingsError(f"{path}: file not found") from exc
    except PermissionError as exc:
        raise SettingsError(f"{path}: permission denied") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _env_layer(environ: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Settings from IBC_* variables and, for error messages, the variable behind each key."""
    layer: dict[str, Any] = {}
    origin: dict[str, str] = {}
    skip = {"IBC_CONFIG", "IBC_TEST_PG_URL", "IBC_SHARED", "IBC_KIVY_LOG", "IBC_BIN",
            "IBC_WRITE_GALLERY"}  # read by the kiosk runner, the X session script, the tests
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in skip:
            continue
        path: tuple[str, ...]
        if name in ENV_SHORTCUTS:
            path = ENV_SHORTCUTS[name]
        else:
            path = tuple(p.lower() for p in name[len(ENV_PREFIX):].split("__"))
        node = layer
        for part in path[:-1]:
            node = node.setdefault(part, {})
        # A password is text as typed: IBC_IRBIS__PASSWORD=0123 must not become the number 123.
        node[path[-1]] = value if path[-1] == "password" else _coerce_env(value)
        origin[".".join(path)] = name
    return layer, origin


def _coerce_env(value: str) -> Any:
    """Environment values are TOML scalars when they parse as one, else plain strings."""
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value


def _describe(exc: ValidationError, where: dict[str, str], default_source: str) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        source = where.get(key, default_source)
        reason = err["msg"]
        if err["type"] == "extra_forbidden":
            reason = "unknown key"
        lines.append(f"{source}: {key}: {reason}")
    return "\n".join(lines)


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    environ: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Load and validate settings; raises SettingsError with file, key and reason."""
    environ = dict(os.environ if environ is None else environ)
    data = _read_toml(DEFAULTS_FILE)
    source = str(DEFAULTS_FILE)
    chosen = config_file or environ.get("IBC_CONFIG")
    if chosen:
        path = Path(chosen)
    elif SYSTEM_FILE.exists():
        path = SYSTEM_FILE
    else:
        path = None
    if path is not None:
        data = _merge(data, _read_toml(path))
        source = str(path)
    env, where = _env_layer(environ)
    data = _merge(data, env)
    if overrides:
        data = _merge(data, overrides)
        where.update({k: "command line" for k in _flatten(overrides)})
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, where, source)) from None


def _flatten(tree: dict[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for key, value in tree.items():
        full = f"{prefix}{key}"
        keys.extend(_flatten(value, full + ".") if isinstance(value, dict) else [full])
    return keys
