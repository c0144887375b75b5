"""`ibc printer list` wiring, without a network: the zeroconf object it builds."""

from __future__ import annotations

import argparse
import types

import zeroconf.asyncio
from zeroconf import InterfaceChoice

import device.printer.discovery
from ibc.commands import printer as cmd


class _Zeroconf:
    made: list[dict] = []

    def __init__(self, **kwargs) -> None:
        _Zeroconf.made.append(kwargs)

    async def async_close(self) -> None:
        pass


async def _none_found(aiozc, timeout: float = 3.0) -> list:
    return []


def _args(**over) -> argparse.Namespace:
    base = dict(action="list", uri=None, name=None, timeout=0.1, interface=None, json=True)
    return argparse.Namespace(**{**base, **over})


def test_list_without_interface_listens_on_all(monkeypatch, capsys):
    # `--interface` not given used to pass interfaces=None, which zeroconf refuses (TypeError)
    monkeypatch.setattr(zeroconf.asyncio, "AsyncZeroconf", _Zeroconf)
    monkeypatch.setattr(device.printer.discovery, "discover_printers", _none_found)
    ctx = types.SimpleNamespace(settings=types.SimpleNamespace(
        printer=types.SimpleNamespace(uri="", name="")))
    _Zeroconf.made.clear()
    assert cmd.run(_args(), ctx) == 0
    assert cmd.run(_args(interface=["127.0.0.1"]), ctx) == 0
    assert [z["interfaces"] for z in _Zeroconf.made] == [InterfaceChoice.All, ["127.0.0.1"]]
    assert capsys.readouterr().out.split() == ["[]", "[]"]
