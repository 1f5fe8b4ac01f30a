"""The HTML report renders its charts in headless Chromium with the network cut off.

Chromium's proxy is a listener on 127.0.0.1 that closes every connection, so nothing the
browser requests can arrive from the network. The screenshot must then show the funnel
bars and the rate lines in their colours, and Chromium's console log must stay empty.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from pathlib import Path

from PIL import Image

from klenty_wh.report.charts import FUNNEL_COLOR, RATE_COLORS, VOLUME_COLOR
from tests.helpers import run_cli
from tests.report.conftest import require_chromium

WINDOW = (1280, 1800)


class ClosingProxy:
    """A TCP listener on 127.0.0.1 that accepts each connection and closes it at once."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> ClosingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            connection.close()


def screenshot(chromium: str, page: Path, png: Path, profile: Path, proxy_port: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
         f"--proxy-server=http://127.0.0.1:{proxy_port}", "--proxy-bypass-list=<-loopback>",
         "--virtual-time-budget=5000", f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={png}",
         page.as_uri()],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )


def pixels_near(image: Image.Image, color: str, tolerance: int = 6) -> int:
    """Count the pixels within ``tolerance`` of ``color`` (hex) on every channel."""
    target = tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))
    count = 0
    for pixel_count, pixel in image.getcolors(maxcolors=image.width * image.height):
        if all(abs(channel - wanted) <= tolerance for channel, wanted in zip(pixel, target)):
            count += pixel_count
    return count


def test_report_renders_charts_offline(tmp_path: Path):
    chromium = require_chromium()
    url = f"duckdb:///{tmp_path / 'klenty.duckdb'}"
    assert run_cli("sample", "--events", "3000", "--out", str(tmp_path / "s.ndjson.gz")).code == 0
    assert run_cli("load", str(tmp_path / "s.ndjson.gz"), "--url", url).code == 0
    page = tmp_path / "report.html"
    assert run_cli("report", "--url", url, "--out", str(page)).code == 0
    png = tmp_path / "report.png"

    with ClosingProxy() as proxy:
        result = screenshot(chromium, page, png, tmp_path / "profile", proxy.port)

    assert result.returncode == 0, result.stderr[-2000:]
    assert png.is_file(), result.stderr[-2000:]
    image = Image.open(png).convert("RGB")
    assert image.size == WINDOW
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    non_white = image.width * image.height - pixels_near(image, "#ffffff", tolerance=3)
    assert non_white > image.width * image.height * 0.05, "the screenshot is almost blank"
    assert len(image.getcolors(maxcolors=image.width * image.height)) > 50
    assert pixels_near(image, FUNNEL_COLOR) > 20_000, "the funnel bars are missing"
    assert pixels_near(image, RATE_COLORS["open_rate"]) > 300, "the open rate line is missing"
    assert pixels_near(image, RATE_COLORS["reply_rate"]) > 300, "the reply rate line is missing"
    assert pixels_near(image, VOLUME_COLOR) > 5_000, "the emails-per-day bars are missing"
