"""Discovery through real zeroconf on 127.0.0.1: two schools' servers, `ibc discover --json`."""

from __future__ import annotations

import json
import subprocess
import sys

from library.storage.database import open_database


def test_two_servers_discover_and_pick_by_school_id(tmp_path, zc_loop, serve):
    servers = []
    try:
        for sid in ("sch-a", "sch-b"):
            url = f"sqlite:///{tmp_path / sid}.sqlite3"
            open_database(url).dispose()
            servers.append(serve(url, sid))
        out = subprocess.run(
            [sys.executable, "-m", "ibc", "--config", str(tmp_path / "sch-a.toml"), "discover",
             "--json", "--wait", "2"], capture_output=True, text=True, timeout=60, check=True)
        seen = {s["school_id"]: s for s in json.loads(out.stdout)}
        assert set(seen) == {"sch-a", "sch-b"}
        assert seen["sch-b"]["url"] == servers[1].url and seen["sch-b"]["api"] == "1"
        assert seen["sch-a"]["school_name"] == "Школа sch-a"

        from device.discovery import ServerLocator

        aiozc, run = zc_loop
        locator = ServerLocator(aiozc, school_id="sch-b")
        run(locator.start())
        try:
            found = run(locator.wait(10))
            assert found is not None and found.url == servers[1].url
        finally:
            run(locator.close())
    finally:
        for proc in servers:
            assert proc.stop() == 0
