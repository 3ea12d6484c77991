"""Screenshots of TensorBoard's tabs over a log directory, for the docs (docs/logging.md shows them).

    python scripts/tensorboard_screenshots.py LOGDIR scalars text images --out docs/tensorboard
    python scripts/tensorboard_screenshots.py sweeps/learning_rate hparams --out docs/tensorboard --prefix study_

Starts a real ``tensorboard`` on a free local port, loads each tab in headless Chromium (Debian's
``chromium`` package), saves ``<out>/<prefix><tab>.png``, and stops the server.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logdir")
    parser.add_argument("tabs", nargs="+", help="TensorBoard tabs: scalars, text, images, hparams, ...")
    parser.add_argument("--out", default="docs/tensorboard")
    parser.add_argument("--prefix", default="")
    parser.add_argument("--size", default="1400,900", help="window width,height in pixels")
    parser.add_argument("--wait", type=int, default=15000, help="milliseconds of page time before each shot")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("error: chromium not found (Debian: apt-get install chromium)")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", args.logdir, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/data/runs", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(3)  # let the first load of the event files finish
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for tab in args.tabs:
            path = out / f"{args.prefix}{tab}.png"
            subprocess.run(
                [
                    browser,
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    f"--window-size={args.size}",
                    f"--virtual-time-budget={args.wait}",
                    f"--screenshot={path}",
                    f"http://127.0.0.1:{port}/?darkMode=false#{tab}",
                ],
                check=True,
                capture_output=True,
                timeout=180,
            )
            print(f"{tab}: {path}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
