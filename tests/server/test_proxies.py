"""Who the client is, behind a reverse proxy (`[server] trusted_proxies`, server/runner.py): a
real `ibc serve` believes X-Forwarded-For only from the proxies it is told of — otherwise anyone
could pick the address its failed sign-ins are counted against (the desk's and the OPAC's
per-address guess limits, the audit log)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.desk.conftest import ibc
from tests.server.conftest import ServerProcess, write_config


def _failed_login_from(tmp_path, name: str, proxies: list[str]) -> set[str]:
    """The guard keys a wrong desk password sent with X-Forwarded-For: 203.0.113.9 leaves."""
    import sqlite3

    cfg = tmp_path / f"{name}.toml"
    db_file = tmp_path / f"{name}.sqlite3"
    write_config(cfg, f"sqlite:///{db_file}", name, advertise=False, trusted_proxies=proxies)
    for argv, stdin in ((["db", "upgrade"], ""),
                        (["librarian", "add", "marina"], "библиотека-2026\n")):
        done = ibc(cfg, *argv, stdin=stdin)
        assert done.returncode == 0, (argv, done.stdout, done.stderr)
    proc = ServerProcess(cfg, tmp_path)
    proc.start()
    try:
        with httpx.Client(base_url=proc.url, timeout=15) as client:
            form = client.get("/desk/login")
            token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
            r = client.post("/desk/login", data={"name": "marina", "password": "не тот", "csrf": token},
                            headers={"X-Forwarded-For": "203.0.113.9"})
            assert r.status_code == 401
    finally:
        assert proc.stop() == 0
    with sqlite3.connect(db_file) as con:
        return {k for (k,) in con.execute("SELECT key FROM desk_login_guards") if k.startswith("ip:")}


def test_no_forwarding_header_is_believed_by_default(tmp_path):
    assert _failed_login_from(tmp_path, "direct", []) == {"ip:127.0.0.1"}


def test_a_trusted_proxy_names_the_client(tmp_path):
    assert _failed_login_from(tmp_path, "proxied", ["127.0.0.0/8"]) == {"ip:203.0.113.9"}


@pytest.mark.parametrize("bad", ["proxy.local", "10.0.0.300", "1.2.3.4/99"])
def test_a_proxy_must_be_an_address_or_network(bad):
    from config.settings import SettingsError, load_settings

    with pytest.raises(SettingsError):
        load_settings(environ={"IBC_SERVER__TRUSTED_PROXIES": f'["{bad}"]'})
