"""Writers wait their turn: 40 and 80 concurrent add-event processes, with the default settings, while two
CPU-bound processes load the machine, all land (issue 12). Slow: CI runs it too."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import PARTNERCTL, clean_env
from conftest import SHIPPED_REGISTRY as SHIPPED
from partnerctl.storage import reader, store

# Two processes that keep a core each busy for as long as the writers run.
BUSY = "import time\nend = time.monotonic() + 600\nwhile time.monotonic() < end:\n    pass\n"


@pytest.mark.slow
@pytest.mark.parametrize("n", [40, 80])
def test_concurrent_writers_on_a_loaded_machine_all_land(tmp_path: Path, n: int) -> None:
    reg = tmp_path / "registry.toml"
    shutil.copyfile(SHIPPED, reg)
    busy = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(2)]
    try:
        started = time.monotonic()
        # The default lock timeout: no --lock-timeout, no $PARTNERCTL_LOCK_TIMEOUT.
        env = {k: v for k, v in clean_env().items() if k != "PARTNERCTL_LOCK_TIMEOUT"}
        procs = [subprocess.Popen([PARTNERCTL, "--registry", str(reg), "add-event", "turin", "--date", "2015-06",
                                   "--title", f"Loaded writer {i}", "--format", "ids"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for i in range(n)]
        outcomes = []
        for p in procs:
            out, err = p.communicate(timeout=store.DEFAULT_LOCK_TIMEOUT + 300)
            outcomes.append((p.returncode, out, err))
        took = time.monotonic() - started
    finally:
        for p in busy:
            p.kill()
            p.wait()
    assert [rc for rc, _, _ in outcomes] == [0] * n, [err for rc, _, err in outcomes if rc]
    assert sorted(out for _, out, _ in outcomes) == sorted(f"2015-06-loaded-writer-{i}\n" for i in range(n))
    # The longest wait is at most the whole run: say it (docs/performance.md records it).
    print(f"{n} writers, 2 busy processes: all landed in {took:.1f} s (default lock timeout "
          f"{store.DEFAULT_LOCK_TIMEOUT:g} s)")
    assert reader.problems(reg) == []
    titles = [e.title for e in store.load(reg).partnerships["turin"].events if e.title.startswith("Loaded writer ")]
    assert sorted(titles) == sorted(f"Loaded writer {i}" for i in range(n))
