"""A real TensorBoard server over a run that was fit and then tested, read through its HTTP API."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import run_cli, run_dirs, tiny_fit_args

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request(url: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-XSRF-Protected": "1"}
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=10) as response:
        return json.loads(response.read())


def wait_for(url: str, server: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"tensorboard exited: {server.stderr.read() if server.stderr else ''}")
        try:
            request(url)
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.5)
    raise AssertionError(f"tensorboard did not answer {url} in {seconds} s")


@contextlib.contextmanager
def tensorboard_server(logdir: Path) -> Iterator[str]:
    """A real TensorBoard over ``logdir``; yields its address."""
    port = free_port()
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--reload_interval", "1"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/data/runs", server)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_hparams_of_two_runs_compare_in_numeric_columns(tmp_path: Path) -> None:
    # One run stops at no target (None), the other at 1.0; their hidden sizes differ (integers).
    run_cli("fit", tmp_path, *tiny_fit_args(3), "--trainer.logger.init_args.version", "a")
    run_cli(
        "fit",
        tmp_path,
        *tiny_fit_args(3, "--early_stopping.target", "1.0", "--model.hidden_size", "12"),
        "--trainer.logger.init_args.version",
        "b",
    )
    with tensorboard_server(tmp_path / "lightning_logs") as base:
        deadline = time.monotonic() + 60
        while True:
            experiment = request(f"{base}/data/plugin/hparams/experiment", {"experimentName": ""})
            infos = {info["name"]: info for info in experiment.get("hparamInfos", [])}
            if "early_stopping.target" in infos or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert infos["early_stopping.target"]["type"] == "DATA_TYPE_FLOAT64"
        assert infos["model.hidden_size"]["type"] == "DATA_TYPE_FLOAT64"
        assert infos["trainer.max_steps"]["type"] == "DATA_TYPE_FLOAT64"
        groups = request(
            f"{base}/data/plugin/hparams/session_groups",
            {
                "experimentName": "",
                "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
                "colParams": [{"hparam": "model.hidden_size", "order": "ORDER_ASC"}],
                "startIndex": 0,
                "sliceSize": 10,
            },
        )["sessionGroups"]
        assert [group["name"] for group in groups] == ["b", "a"]  # both rows, sorted as numbers (12 < 16)
        by_name = {group["name"]: group["hparams"] for group in groups}
        assert by_name["a"]["model.hidden_size"] == 16 and by_name["b"]["early_stopping.target"] == 1.0
        assert "early_stopping.target" not in by_name["a"]  # None: an empty cell, not the text "null"


def test_tensorboard_shows_one_run_with_its_config_and_test_metrics(tmp_path: Path) -> None:
    # Two layers, so the probe has a tag per layer to show.
    run_cli("fit", tmp_path, *tiny_fit_args(6), "--optimizer.lr", "0.002", "--model.num_layers", "2")
    (run,) = run_dirs(tmp_path)
    run_cli(
        "test",
        tmp_path,
        "--ckpt_path",
        str(run / "checkpoints" / "last.ckpt"),
        "--data.num_digits",
        "3",
        "--data.test_size",
        "40",
        "--data.test_lengths",
        "[3, 6]",
    )

    port = free_port()
    command = [
        sys.executable,
        "-m",
        "tensorboard.main",
        "--logdir",
        str(tmp_path / "lightning_logs"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--reload_interval",
        "1",
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/data/runs", server)
        deadline = time.monotonic() + 60
        while True:  # the first load of the event files can trail the server's start
            tags = request(f"{base}/data/plugin/scalars/tags")
            if "test/exact_match/random/6" in tags.get("version_0", {}) or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert list(tags) == ["version_0"]  # fit and both test lengths are one run
        run_tags = set(tags["version_0"])
        assert {"train/loss", "val/exact_match", "test/exact_match/random/3", "test/exact_match/carry/6"} <= run_tags
        assert {"test/carry_probe/layer1", "test/carry_probe/layer2"} <= run_tags
        assert "epoch" not in run_tags
        # The carry probe's projection of the hidden states, in the Images tab.
        images = request(f"{base}/data/plugin/images/tags")
        assert "test/carry_probe" in images.get("version_0", {})
        (image,) = request(f"{base}/data/plugin/images/images?run=version_0&tag=test/carry_probe&sample=0")
        png = f"{base}/data/plugin/images/individualImage?{image['query']}"
        with urllib.request.urlopen(png, timeout=10) as response:
            assert response.read(8) == b"\x89PNG\r\n\x1a\n"
        assert image["step"] == 6  # at the step of the tested checkpoint

        # Custom Scalars: the run's layout, train and validation of a metric on one chart.
        layout = request(f"{base}/data/plugin/custom_scalars/layout")
        charts = {chart["title"]: chart for category in layout["category"] for chart in category["chart"]}
        assert charts["digit accuracy (train, validation)"]["multiline"]["tag"] == [
            "^train/digit_acc$",
            "^val/digit_acc$",
        ]
        # The Projector: each layer's hidden states of the probe's sums, labelled by carry and position.
        assert "version_0" in request(f"{base}/data/plugin/projector/runs")
        info = request(f"{base}/data/plugin/projector/info?run=version_0")
        embeddings = {e["tensorName"]: e for e in info["embeddings"]}
        assert {"carry_probe_layer1:00006", "carry_probe_layer2:00006"} <= set(embeddings)  # tag:step
        shape = embeddings["carry_probe_layer1:00006"]["tensorShape"]
        assert shape[1] == 16  # the hidden size
        metadata_url = f"{base}/data/plugin/projector/metadata?run=version_0&name=carry_probe_layer1:00006"
        with urllib.request.urlopen(metadata_url, timeout=10) as response:
            rows = response.read().decode().splitlines()
        assert rows[0].split("\t") == ["carry", "position"] and len(rows) == shape[0] + 1
        assert {row.split("\t")[0] for row in rows[1:]} == {"0", "1"}

        experiment = request(f"{base}/data/plugin/hparams/experiment", {"experimentName": ""})
        columns = {info["name"] for info in experiment["hparamInfos"]}
        metrics = {info["name"]["tag"] for info in experiment["metricInfos"]}
        assert {"optimizer.lr", "data.num_digits", "model.cell", "num_parameters"} <= columns
        assert not any(name.startswith("_") for name in columns)
        assert {"test/exact_match/random/3", "val/exact_match_best", "train/fit_seconds"} <= metrics
    finally:
        server.terminate()  # stopped by its PID
        server.wait(timeout=30)
    assert server.returncode is not None
