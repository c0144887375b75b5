"""The API's one place that turns errors into JSON: ``{"code", "message", "message_en"}``.

    ApiError (this module)          → its own status (400, 401, 404, 413, 429)
    AuthError / EnrolError          → 401 / 400
    CirculationError (library)      → 422 when the card or barcode is unknown or a new PIN is
                                      malformed or trivial, 429 card_locked, 503 with
                                      Retry-After for irbis_unavailable (ils/irbis), else 409
    MediaError (media.errors)       → 409 media_refused, ``reason`` its code, messages ru/en
    DeskLoginRequired (server.desk) → 303 to /desk/login (pages, never JSON)
    DeskError (server.desk)         → an HTML page with its Russian text and status (403 admin
                                      only or CSRF, 404, 409, 400)
    OpacLoginRequired (server.opac) → 303 to /opac/login?next=… (pages, never JSON)
    OpacError (server.opac)         → an HTML page of the OPAC with its text and status
    (under /desk and /opac every refusal below is the same HTML page instead of JSON)
    NotFound (library.errors)       → 404 not_found
    StorageError (library.errors)   → 503 storage_unavailable (Retry-After), logged
    any other IbcError              → 400 with its stable code, logged
    RequestValidationError (FastAPI)→ 422 with the offending fields
    anything else                   → 500, logged, no details leaked (a bug: every deliberate
                                      error derives from library.errors.IbcError)

``message`` is Russian (library.i18n.translator("ru")), ``message_en`` English.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from library.circulation.errors import CirculationError
from library.errors import IbcError, NotFound, StorageError
from library.i18n import translator
from server.security import AuthError, EnrolError

log = logging.getLogger("ibc.server")
NOT_FOUND_CODES = {"reader_not_found", "item_not_found"}
INVALID_CODES = {"pin_format", "pin_trivial"}
LOCKED_CODES = {"card_locked"}
# The system of record (ИРБИС64, ils/irbis/circulation.py) did not answer: 503, so a terminal
# keeps the operation in its offline queue and forwards it later.
UNAVAILABLE_CODES = {"irbis_unavailable"}
IRBIS_CODES = UNAVAILABLE_CODES | {"irbis_refused"}  # their texts: MESSAGES below

# Server-side messages: code → (Russian, English).
MESSAGES = {
    "no_token": ("Терминал не подключён: нужен токен", "A terminal token is required"),
    "bad_token": ("Терминал не зарегистрирован или отключён", "Unknown or revoked credential"),
    "no_session": ("Сначала приложите читательский билет", "Show your reader card first"),
    "bad_session": ("Сеанс читателя завершён", "The reader session has ended"),
    "session_expired": ("Сеанс читателя истёк: приложите билет снова",
                        "The reader session expired: show your card again"),
    "bad_enrol_code": ("Код подключения неверен, уже использован или устарел",
                       "The enrolment code is wrong, used or expired"),
    "name_taken": ("Это имя терминала уже занято", "This terminal name is already taken"),
    "too_many_attempts": ("Слишком много попыток: подождите минуту",
                          "Too many attempts: wait a minute"),
    "invalid_request": ("Неверный запрос", "Invalid request"),
    "body_too_large": ("Слишком большой запрос", "Request body too large"),
    "not_found": ("Не найдено", "Not found"),
    "method_not_allowed": ("Метод не поддерживается", "Method not allowed"),
    "forbidden": ("Недоступно для этого читателя", "Not available for this reader"),
    "internal": ("Внутренняя ошибка сервера", "Internal server error"),
    "pin_required": ("Введите ПИН-код", "Enter your PIN"),
    "offline_refused": ("Операции без сети отключены", "Offline operations are disabled"),
    "teachers_only": ("Управлять показом могут только учителя и сотрудники ИБЦ",
                      "Only teachers and staff can control the media station"),
    "staff_only": ("Сдачу учебников открывает карточка учителя или сотрудника ИБЦ",
                   "Textbook collection opens with a teacher's or staff card"),
    "onsite_only": ("Этот материал можно смотреть только в ИБЦ, скачать его нельзя",
                    "This item is for viewing in the library only and cannot be downloaded"),
    "station_off": ("Медиастанция на этом сервере не включена",
                    "This server does not drive a media station ([media] station)"),
    "station_unavailable": ("Медиастанция не запустилась: проверьте VLC",
                            "The media station did not start (VLC)"),
    "station_busy": ("Показом сейчас управляет другой учитель: попробуйте через пару минут",
                     "Another teacher controls the media station now; try again in a few minutes"),
    "storage_unavailable": ("База данных сервера недоступна: попробуйте через минуту",
                            "The server's database is unavailable: try again in a minute"),
    "refused": ("Запрос не выполнен", "The request was refused"),
    "read_only": ("Этот сервер только для чтения (резервная копия): выдача, возврат, брони и вход "
                  "работают на основном сервере",
                  "This server is read-only (a standby): loans, returns, holds and logins go to "
                  "the primary server"),
    "irbis_unavailable": ("Сервер ИРБИС не отвечает: попробуйте через минуту или обратитесь к "
                          "библиотекарю",
                          "The ИРБИС server does not answer: try again in a minute or see the "
                          "librarian"),
    "irbis_refused": ("Сервер ИРБИС не принял учётную запись библиотеки: обратитесь к "
                      "библиотекарю",
                      "The ИРБИС server refused the library's account: please see the librarian"),
}


class ApiError(IbcError):
    """An API refusal with an HTTP status and a code from MESSAGES."""

    def __init__(self, status: int, code: str, detail: str | None = None):
        super().__init__(code)
        self.status, self.code, self.detail = status, code, detail


def body(code: str, detail: str | None = None, **extra: object) -> dict:
    """The JSON error body for a server-side code."""
    ru, en = MESSAGES.get(code, MESSAGES["internal"])
    out: dict[str, object] = {"code": code, "message": ru, "message_en": en}
    if detail:
        out["detail"] = detail
    out.update(extra)
    return out


def circulation_body(exc: CirculationError) -> dict:
    """The JSON body of a circulation refusal, in Russian and English."""
    return {"code": exc.code, "message": exc.message(translator("ru")),
            "message_en": exc.message(), "params": exc.to_dict()["params"]}


def circulation_status(exc: CirculationError) -> int:
    """422 for unknown card/barcode and a malformed new PIN, 429 for a card locked by wrong PINs,
    503 when the system of record (ИРБИС) does not answer, 409 for a refusal by the rules or
    the copy's state."""
    if exc.code in NOT_FOUND_CODES or exc.code in INVALID_CODES:
        return 422
    if exc.code in UNAVAILABLE_CODES:
        return 503
    return 429 if exc.code in LOCKED_CODES else 409


def _fields(exc: RequestValidationError) -> list[dict]:
    out = []
    for err in exc.errors()[:20]:
        out.append({"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", ""))[:200],
                    "type": str(err.get("type", ""))})
    return out


def install(app: FastAPI) -> None:
    """Register every exception handler on `app`. Under /desk the same refusal is an HTML page
    (its Russian message and status) instead of JSON."""
    import json

    from fastapi.responses import RedirectResponse, Response

    from server.desk.errors import DeskError, DeskLoginRequired
    from server.desk.i18n import language as i18n_language
    from server.desk.web import HEADERS as DESK_HEADERS
    from server.desk.web import error_page, is_desk_path
    from server.opac import web as opac_web
    from server.opac.errors import OpacError, OpacLoginRequired

    def on(exc_type: type[Exception]) -> Any:
        register = app.exception_handler(exc_type)

        def wrap(fn: Any) -> Any:
            async def page_or_json(req: Request, exc: Any) -> Response:
                response = await fn(req, exc)
                opac = opac_web.is_opac_path(req.url.path)
                if isinstance(response, JSONResponse) and (opac or is_desk_path(req.url.path)):
                    data = json.loads(bytes(response.body))
                    message = data.get("message" if i18n_language() == "ru" else "message_en", "")
                    page = (opac_web.error_page if opac else error_page)(
                        response.status_code, message or MESSAGES["refused"][0])
                    if "retry-after" in response.headers:
                        page.headers["Retry-After"] = response.headers["retry-after"]
                    # a crash (500) is answered outside the middlewares that add these
                    extra = [*opac_web.HEADERS, opac_web.PRIVATE] if opac else DESK_HEADERS
                    for name, value in extra:
                        page.headers[name.decode("latin-1")] = value.decode("latin-1")
                    return page
                return response
            return register(page_or_json)
        return wrap


    @on(ApiError)
    async def _api(_req: Request, exc: ApiError) -> JSONResponse:
        headers = {"Retry-After": "60"} if exc.status == 429 else None
        return JSONResponse(body(exc.code, exc.detail), status_code=exc.status, headers=headers)

    @on(AuthError)
    async def _auth(_req: Request, exc: AuthError) -> JSONResponse:
        return JSONResponse(body(exc.code), status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @on(EnrolError)
    async def _enrol(_req: Request, exc: EnrolError) -> JSONResponse:
        return JSONResponse(body(exc.code), status_code=409 if exc.code == "name_taken" else 400)

    @on(CirculationError)
    async def _circ(_req: Request, exc: CirculationError) -> JSONResponse:
        status = circulation_status(exc)
        headers = None
        if exc.code in IRBIS_CODES:  # ИРБИС's refusals: the server's own Russian text
            data = {**circulation_body(exc), **body(exc.code)}
            return JSONResponse(data, status_code=status,
                                headers={"Retry-After": "60"} if status == 503 else None)
        if status == 429:
            minutes = str(exc.params.get("minutes", "1"))
            headers = {"Retry-After": str(60 * int(minutes)) if minutes.isdigit() else "60"}
        return JSONResponse(circulation_body(exc), status_code=status, headers=headers)

    from media.errors import MediaError

    @on(MediaError)
    async def _media(_req: Request, exc: MediaError) -> JSONResponse:
        return JSONResponse({"code": "media_refused", "reason": exc.code,
                             "message": exc.message(translator("ru")),
                             "message_en": exc.message(), "params": exc.params},
                            status_code=409)

    @on(DeskLoginRequired)
    async def _desk_login(_req: Request, exc: DeskLoginRequired) -> Response:
        response = RedirectResponse("/desk/login", status_code=303)
        response.delete_cookie("ibc_desk", path="/desk")
        return response

    @on(OpacLoginRequired)
    async def _opac_login(req: Request, exc: OpacLoginRequired) -> Response:
        from urllib.parse import quote

        back = req.url.path + (f"?{req.url.query}" if req.url.query else "")
        target = "/opac/login" + (f"?next={quote(back)}" if req.method == "GET" and len(back) < 300 else "")
        return RedirectResponse(target, status_code=303)

    @on(OpacError)
    async def _opac(_req: Request, exc: OpacError) -> Response:
        return opac_web.error_page(exc.status, str(exc))

    @on(DeskError)
    async def _desk(_req: Request, exc: DeskError) -> Response:
        return error_page(exc.status, str(exc))

    @on(NotFound)
    async def _not_found(_req: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(body("not_found"), status_code=404)

    @on(StorageError)
    async def _storage(req: Request, exc: StorageError) -> JSONResponse:
        log.error("storage unavailable on %s %s: %s", req.method, req.url.path, exc)
        return JSONResponse(body("storage_unavailable"), status_code=503,
                            headers={"Retry-After": "60"})

    @on(IbcError)
    async def _refused(req: Request, exc: IbcError) -> JSONResponse:
        log.warning("refused on %s %s: %s (%s)", req.method, req.url.path, exc, exc.code)
        ru, en = MESSAGES.get(exc.code, MESSAGES["refused"])
        return JSONResponse({"code": exc.code, "message": ru, "message_en": en},
                            status_code=400)

    @on(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(body("invalid_request", errors=_fields(exc)), status_code=422)

    @on(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
            exc.status_code, "invalid_request")
        return JSONResponse(body(code), status_code=exc.status_code)

    @on(Exception)
    async def _bug(req: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", req.method, req.url.path)
        return JSONResponse(body("internal"), status_code=500)
