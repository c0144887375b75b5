"""The house's layering (../shared/ARCHITECTURE.md, «Top-level layout»), read from the code.

Every import statement of every product package (including imports inside functions: a lazy
import is still a dependency) is checked against the table below; and, at run time, the core and
the CLI parser must load without UI or hardware libraries.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("library", "device", "media", "ils", "server", "kiosk", "config", "ibc")
# package → the project packages it may import (itself included). Nothing imports ibc/; the
# kiosk and the server are siblings that talk over HTTP only.
MAY_IMPORT = {
    "library": {"library"},
    "config": {"config"},
    "device": {"device", "library"},
    "media": {"media", "library", "device"},
    "ils": {"ils", "library", "config"},
    "server": {"server", "library", "media", "device", "ils", "config"},
    "kiosk": {"kiosk", "library", "device", "media", "config"},
    "ibc": set(PACKAGES),
}
UI_HARDWARE_PLAYER_HTTP_DISCOVERY = {
    "kivy", "cv2", "pyzbar", "zxingcpp", "numpy", "vlc", "Xlib", "pyipp", "zeroconf", "httpx",
    "requests", "aiohttp", "fastapi", "starlette", "uvicorn", "anyio"}
NEVER = {
    "library": UI_HARDWARE_PLAYER_HTTP_DISCOVERY,
    "config": UI_HARDWARE_PLAYER_HTTP_DISCOVERY,
    # the ИРБИС64 client is our own codec; cbsvibpyirbis is a test-only independent client
    "ils": UI_HARDWARE_PLAYER_HTTP_DISCOVERY | {"cbsvibpyirbis", "irbis"},
    "device": {"kivy", "vlc", "fastapi", "starlette", "uvicorn", "httpx"},
    "media": {"kivy", "cv2", "fastapi", "starlette", "uvicorn", "httpx", "zeroconf"},
    "server": {"kivy", "cv2", "pyzbar", "vlc"},
    "kiosk": {"fastapi", "starlette", "uvicorn"},
}


def imports_of(package: str) -> dict[str, set[str]]:
    """Top-level module name → the files of ``package`` that import it."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_follow_the_layering_table(package):
    """Project arrows only where the table allows them; no UI/hardware/HTTP where they are banned."""
    found = imports_of(package)
    wrong = {name: sorted(files) for name, files in found.items()
             if (name in PACKAGES and name not in MAY_IMPORT[package])
             or name in NEVER.get(package, set())}
    assert not wrong, f"{package}/ must not import: {wrong}"


def test_the_scanner_sees_lazy_imports():
    """The rule reads imports inside functions too (most heavy imports here are lazy)."""
    assert "kivy" in imports_of("kiosk") and "vlc" in imports_of("media")
    assert "sqlalchemy" in imports_of("library")

HEAVY = ("kivy", "cv2", "vlc", "zeroconf", "fastapi")


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return {m for m in out.stdout.strip().split(",") if m}


def test_library_loads_no_ui_or_hardware_modules():
    assert _loaded_after("import library, library.storage, library.errors") == set()


@pytest.mark.parametrize("argv", [["--help"], ["db", "--help"]])
def test_cli_parser_loads_nothing_heavy(argv):
    code = (
        "import contextlib, io, ibc.cli\n"
        "try:\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        f"        ibc.cli.main({argv!r})\n"
        "except SystemExit:\n"
        "    pass"
    )
    assert _loaded_after(code) == set()


def test_every_exception_derives_from_ibc_error():
    """One error tree: every exception class a product module defines is an IbcError
    (library.errors), so front ends and the API map it once by its stable code. Settings errors
    in the config leaf stay apart (config imports nothing of the project)."""
    probe = r"""
import importlib, inspect, os, pkgutil, sys, tempfile
os.environ.setdefault("KIVY_NO_ARGS", "1"); os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp())
from library.errors import IbcError
apart = {"config.settings.SettingsError"}
bad, seen = [], 0
for package in ("library", "device", "media", "ils", "server", "kiosk", "ibc", "config"):
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if info.name.endswith("__main__") or ".kv" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, BaseException) \
                    and obj.__module__ == module.__name__:
                seen += 1
                full = f"{obj.__module__}.{obj.__qualname__}"
                if not issubclass(obj, IbcError) and full not in apart:
                    bad.append(full)
print(seen, ",".join(sorted(bad)))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    seen, _, bad = out.stdout.strip().rpartition("\n")[2].partition(" ")
    assert int(seen) > 40, out.stdout
    assert not bad, f"exceptions outside the IbcError tree: {bad}"



def test_the_kiosk_has_one_event_loop_the_bridge():
    """One async bridge in the kiosk (kiosk/bridge.py): no other kiosk module starts an event
    loop, or a thread or timer of its own for slow work (the camera's and the USB scanner's
    reader threads are device edges, in device/)."""
    starts = re.compile(r"\basyncio\.run\(|\bnew_event_loop\(|\brun_until_complete\("
                        r"|\bThread\(|\bTimer\(|\bThreadPoolExecutor\(")
    found = {f"{path.relative_to(ROOT)}:{n}": line.strip()
             for path in sorted((ROOT / "kiosk").rglob("*.py")) if path.name != "bridge.py"
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if starts.search(line)}
    assert not found, found

def test_annotations_instead_of_blanket_noqa():
    """The product's functions are annotated: no ``noqa: ANN`` silences a missing one."""
    found = [f"{path.relative_to(ROOT)}:{n}"
             for package in PACKAGES if (ROOT / package).is_dir()
             for path in sorted((ROOT / package).rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if "noqa: ANN" in line]
    assert not found, found
