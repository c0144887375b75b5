"""kill -9 in the middle of an import leaves whole batches only; re-running completes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from library.storage.database import open_database
from library.storage.models import Copy, Record

ROOT = Path(__file__).resolve().parents[2]
N = 20_000
BATCH = 500


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("kill") / "big.iso"
    subprocess.run([sys.executable, str(ROOT / "bench" / "gen_marc.py"), "rusmarc", str(N),
                    str(path)], check=True, cwd=ROOT)
    return path


def _ibc(url: str, path: Path) -> list[str]:
    return [sys.executable, "-m", "ibc", "--db", url, "import", str(path), "--json",
            "--no-index", "--batch-size", str(BATCH)]


@pytest.mark.slow
def test_kill_9_leaves_whole_batches_and_rerun_completes(db_url, big_file):
    db = open_database(db_url)
    try:
        proc = subprocess.Popen(_ibc(db_url, big_file), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, cwd=ROOT)
        deadline = time.monotonic() + 120
        done = 0
        while time.monotonic() < deadline and proc.poll() is None:
            with db.session() as s:
                done = s.scalar(select(func.count(Record.id)))
            if done >= 3 * BATCH:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the import finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        with db.session() as s:
            records = s.scalar(select(func.count(Record.id)))
            per_record = s.execute(select(Record.key, func.count(Copy.id))
                                   .join(Copy, Copy.record_id == Record.id, isouter=True)
                                   .group_by(Record.key)).all()
        assert 0 < records < N and records % BATCH == 0
        for key, copies in per_record:
            i = int(key.rsplit("\\", 1)[1])
            assert copies == i % 3 + 1, key
        run = subprocess.run(_ibc(db_url, big_file), capture_output=True, text=True, cwd=ROOT,
                             timeout=300)
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout)
        assert (report["read"], report["skipped"]) == (N, 0)
        assert (report["added"], report["updated"]) == (N - records, records)
        with db.session() as s:
            assert s.scalar(select(func.count(Record.id))) == N
            assert s.scalar(select(func.count(Copy.id))) == sum(i % 3 + 1 for i in range(N))
    finally:
        db.dispose()
