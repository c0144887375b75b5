"""`ibc projector status|on|off|input [NAME]|mute on|off|discover`: control the PJLink projector.

Host, port, password, input and timeout come from the settings (`[projector]`); the flags
override them. With no host configured the projector is found by a class 2 UDP search.
Errors print one Russian line to stderr and return 1 (2 for a usage error); no tracebacks.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from library.errors import IbcError

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context

ACTIONS = ("status", "on", "off", "input", "mute", "discover")
_POWER_RU = {"standby": "в режиме ожидания", "on": "включён", "cooling": "остывает",
             "warming": "прогревается"}
_LEVEL_RU = {"warning": "предупреждение", "error": "ошибка"}
_FIELD_RU = {"fan": "вентилятор", "lamp": "лампа", "temperature": "температура",
             "cover": "крышка", "filter": "фильтр", "other": "прочее"}


def register(sub: Subparsers) -> None:
    """Add the `projector` subcommand (argparse only, nothing heavy imported)."""
    p = sub.add_parser("projector", help="PJLink projector: status, power, input, mute")
    p.add_argument("action", choices=ACTIONS, help="what to do")
    p.add_argument("value", nargs="?", help="input name/code (input) or on/off (mute)")
    p.add_argument("--host", help="projector address (default: settings, else UDP search)")
    p.add_argument("--port", type=int, help="PJLink TCP port (default 4352)")
    p.add_argument("--password", help="PJLink password")
    p.add_argument("--timeout", type=float, help="seconds to wait for each answer")
    p.add_argument("--target", choices=("video", "audio", "both"), default="both",
                   help="what `mute` affects")
    p.add_argument("--wait", action="store_true", help="on/off: wait for warm-up/cool-down")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Execute one projector action; returns the exit code."""
    import asyncio

    from device.projector.errors import InvalidProjectorArgument, ProjectorError

    conf = ctx.settings.projector
    host = args.host if args.host is not None else conf.host
    port = args.port if args.port is not None else conf.port
    password = args.password if args.password is not None else conf.password
    timeout = args.timeout if args.timeout is not None else conf.timeout_s
    where = f"{host or '?'}:{port}"
    try:
        return asyncio.run(_run(args, host, port, password, timeout, conf.input))
    except InvalidProjectorArgument as exc:
        print(f"ibc projector: неверный аргумент: {exc}", file=sys.stderr)
        return 2
    except ProjectorError as exc:
        print(f"ibc projector: {describe_error(exc, where)}", file=sys.stderr)
        return 1
    except _UsageError as exc:
        print(f"ibc projector: {exc}", file=sys.stderr)
        return 2


class _UsageError(IbcError):
    """Bad combination of arguments."""


def describe_error(exc: Exception, where: str) -> str:
    """One Russian line for a projector error."""
    from device.projector import errors as e

    where = getattr(exc, "where", None) or where
    table = [
        (e.ProjectorTimeout, f"Проектор не отвечает: {where} (timeout)"),
        (e.ProjectorConnectionError, f"Нет связи с проектором: {where} ({_cause(exc)})"),
        (e.ProjectorAuthError, f"Проектор {where} отклонил пароль PJLink (или пароль не задан)"),
        (e.ProjectorUnavailable, "Проектор сейчас не может выполнить команду (ERR3): "
                                 "он выключен, прогревается или занят"),
        (e.ProjectorFailure, "Неисправность проектора (ERR4): проверьте лампу, вентиляторы, "
                             "температуру"),
        (e.UndefinedCommand, f"Проектор не поддерживает эту команду (ERR1): {exc}"),
        (e.OutOfRange, "Проектор не принял значение (ERR2): нет такого входа или параметра"),
        (e.ProjectorProtocolError, f"Устройство {where} не отвечает как проектор PJLink: {exc}"),
    ]
    for cls, text in table:
        if isinstance(exc, cls):
            return text
    return f"Ошибка проектора {where}: {exc}"


def _cause(exc: Exception) -> str:
    cause = exc.__cause__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return "соединение закрыто" if cause is not None else str(exc)


async def _locate(host: str, timeout: float) -> str:
    """The configured host, or the only projector found by a UDP search."""
    if host:
        return host
    from device.projector.discovery import discover

    found = await discover(timeout=min(timeout, 3.0))
    if len(found) == 1:
        return found[0].address
    if not found:
        raise _UsageError("адрес проектора не задан, и поиск по сети ничего не нашёл: "
                          "укажите --host или projector.host в настройках")
    listed = ", ".join(f"{p.address} ({p.mac})" for p in found)
    raise _UsageError(f"найдено несколько проекторов: {listed}; укажите --host")


async def _run(args: argparse.Namespace, host: str, port: int, password: str, timeout: float,
               default_input: str) -> int:
    from device.projector.client import PJLinkClient

    if args.action == "discover":
        from device.projector.discovery import discover

        found = await discover(timeout=min(timeout, 3.0), port=port,
                               address=host or "255.255.255.255")
        _emit(args, [{"mac": p.mac, "address": p.address} for p in found],
              "\n".join(f"{p.address}  {p.mac}" for p in found) or "Проекторы не найдены")
        return 0
    client = PJLinkClient(await _locate(host, timeout), port, password or None, timeout)
    if args.action == "status":
        status = await client.status()
        data = {"address": client.address, **status.to_dict()}
        _emit(args, data, _status_text(client.address, data))
    elif args.action in ("on", "off"):
        if args.value:
            raise _UsageError(f"`{args.action}` не принимает аргумент {args.value!r}")
        call = client.power_on if args.action == "on" else client.power_off
        state = await call(wait=args.wait, timeout=90.0 if args.action == "on" else 180.0)
        _emit(args, {"address": client.address, "power": state.label},
              f"Проектор {client.address}: {_POWER_RU[state.label]}")
    elif args.action == "input":
        code = await client.set_input(args.value or default_input)
        from device.projector.values import input_name

        _emit(args, {"address": client.address, "input": code, "input_name": input_name(code)},
              f"Проектор {client.address}: вход {input_name(code)} ({code})")
    else:  # mute
        if args.value not in ("on", "off"):
            raise _UsageError("укажите `mute on` или `mute off`")
        await client.mute(args.target, args.value == "on")
        _emit(args, {"address": client.address, "mute": args.target, "on": args.value == "on"},
              f"Проектор {client.address}: заглушка ({args.target}) "
              f"{'включена' if args.value == 'on' else 'выключена'}")
    return 0


def _emit(args: argparse.Namespace, data: dict | list[dict], text: str) -> None:
    print(json.dumps(data, ensure_ascii=False) if args.json else text)


def _status_text(address: str, data: dict) -> str:
    lines = [f"Проектор {address}: {_POWER_RU[data['power']]}"]
    if data["input"]:
        lines.append(f"  вход: {data['input_name']} ({data['input']})")
    if data["mute"] is not None:
        muted = [name for name, key in (("изображение", "video"), ("звук", "audio"))
                 if data["mute"][key]]
        lines.append(f"  заглушено: {', '.join(muted) if muted else 'нет'}")
    problems = [f"{_FIELD_RU[k]} — {_LEVEL_RU[v]}" for k, v in data["errors"].items() if v != "ok"]
    lines.append(f"  неисправности: {'; '.join(problems) if problems else 'нет'}")
    if data["lamps"]:
        hours = ", ".join(f"{lamp['hours']} ч" for lamp in data["lamps"])
        lines.append(f"  наработка ламп: {hours}")
    return "\n".join(lines)
