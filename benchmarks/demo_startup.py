"""Benchmark: `afteraction demo` from installed to serving, on a fresh database.

Three timings, each the median of several runs in fresh temporary directories:

- `afteraction demo --no-serve`: migrate, build and load the demo organisation, exit;
- `afteraction demo --port <free>` until `GET /healthz` answers 200 (then it is stopped);
- the baseline, measured in the same run: `python -c "import afteraction.web.app"`, the
  import cost every start pays before doing any work.

Target: serving within 5 s. Each run is a new process, so imports are included.

Run: python benchmarks/demo_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

TARGET_S = 5.0
COMMAND = [sys.executable, "-m", "afteraction.cli.main"]
if shutil.which("afteraction", path=str(Path(sys.executable).parent)):
    COMMAND = [str(Path(sys.executable).parent / "afteraction")]


def clean_env() -> dict[str, str]:
    """The caller's environment without AFTERACTION_* settings, so runs are comparable."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AFTERACTION_")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def time_import() -> float:
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import afteraction.web.app"], check=True, env=clean_env()
    )
    return time.perf_counter() - began


def time_load(workdir: Path) -> float:
    url = f"sqlite:///{workdir / 'demo.db'}"
    began = time.perf_counter()
    subprocess.run(
        [*COMMAND, "--database-url", url, "demo", "--no-serve"],
        check=True,
        cwd=workdir,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - began


def time_serving(workdir: Path, timeout: float = 60.0) -> float:
    url = f"sqlite:///{workdir / 'demo.db'}"
    port = free_port()
    began = time.perf_counter()
    process = subprocess.Popen(
        [*COMMAND, "--database-url", url, "demo", "--port", str(port)],
        cwd=workdir,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - began < timeout:
            if process.poll() is not None:
                raise SystemExit(f"afteraction demo exited with {process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - began
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                # not listening yet, or accepted but busy starting: try again
                time.sleep(0.02)
        raise SystemExit(f"/healthz did not answer within {timeout:.0f} s")
    finally:
        process.terminate()
        process.wait(10)


def _line(name: str, times: list[float], baseline: float | None = None) -> str:
    median = statistics.median(times)
    spread = f"(min {min(times):.2f}, max {max(times):.2f})"
    text = f"  {name:34} median {median:5.2f} s {spread}"
    if baseline is not None:
        verdict = "meets target" if median <= TARGET_S else "MISSES target"
        text += f"  {median / baseline:4.1f}x import cost; target <= {TARGET_S:.0f} s: {verdict}"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    imports, loads, serving = [], [], []
    for _ in range(args.runs):
        imports.append(time_import())
        with tempfile.TemporaryDirectory(prefix="afteraction-demo-") as tmp:
            loads.append(time_load(Path(tmp)))
        with tempfile.TemporaryDirectory(prefix="afteraction-demo-") as tmp:
            serving.append(time_serving(Path(tmp)))
    baseline = statistics.median(imports)
    print(f"afteraction demo on a fresh SQLite database, {args.runs} runs each ({COMMAND[-1]})")
    print(_line("baseline: import afteraction.web.app", imports))
    print(_line("demo --no-serve (load, then exit)", loads, baseline))
    print(_line("demo until /healthz answers", serving, baseline))


if __name__ == "__main__":
    main()
