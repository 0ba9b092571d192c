"""report.html as a results page: tables by scenario and by run, pass rules, links, legible figures."""

from __future__ import annotations

import json
import struct
from html.parser import HTMLParser
from pathlib import Path

from depth_node.cli import main
from depth_node.evaluation.html_blocks import Html, link, table
from depth_node.evaluation.scenarios import DESCRIPTIONS
from depth_node.evaluation.sim_figures import seed_color
from depth_node.msgs import MessageSet
from tests.bags import Frame, write_camera_bag


class _Page(HTMLParser):
    """Tables (header row + body rows of cell texts), links, element ids and image sources of a page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.images: list[str] = []
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "a":
            self.links.append(str(a["href"]))
        elif tag == "img":
            self.images.append(str(a["src"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def table_with(self, *headers: str) -> list[list[str]]:
        for t in self.tables:
            if t and t[0][: len(headers)] == list(headers):
                return t
        raise AssertionError(f"no table with headers {headers}: {[t[0] for t in self.tables if t]}")


def _png_width(path: Path) -> int:
    return int(struct.unpack(">I", path.read_bytes()[16:20])[0])


def test_sim_report_reads_like_a_results_page(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    argv = ["sim", "--scenario", "dead_end", "--seeds", "2", "--out", str(out), "--depth", "oracle"]
    assert main([*argv, "--width", "64", "--height", "48", "--bags", "all"]) == 0
    text = (out / "report.html").read_text()
    page = _Page(text)
    by_scenario = page.table_with("scenario", "expects", "passed", "success rate", "collision rate")
    assert by_scenario[1][:3] == ["dead_end", "stop", "2/2"]
    runs = page.table_with("scenario", "seed", "depth", "outcome", "verdict", "time (s)", "min clearance (m)")
    assert [row[:5] for row in runs[1:]] == [
        ["dead_end", "0", "oracle", "stopped, no contact", "pass"],
        ["dead_end", "1", "oracle", "stopped, no contact", "pass"],
    ]
    bags = [h for h in page.links if h.startswith("bags/")]
    assert len(bags) == 2 and all((out / h).is_file() and h.endswith(".mcap") for h in bags)
    assert "#scenario-dead_end" in page.links and "scenario-dead_end" in page.ids
    assert DESCRIPTIONS["dead_end"] in text and "Expects a stop" in text
    assert "by_scenario." not in text  # not the flat list of dotted keys
    report = json.loads((out / "report.json").read_text())
    assert [r["bag"] for r in report["scenarios"]] == ["bags/dead_end_0_oracle", "bags/dead_end_1_oracle"]
    for src in page.images:  # drawn for a 1400 px page, not half of it
        assert 1200 <= _png_width(out / src) <= 1500, src


def test_each_seed_has_its_own_colour() -> None:
    colours = [seed_color(i) for i in range(24)]
    assert len(set(colours)) == 24


def test_the_replay_report_is_grouped_into_small_tables(
    tmp_path: Path, messages: MessageSet, metric_model: Path
) -> None:
    bag = write_camera_bag(tmp_path / "in", [Frame(), Frame("truncated"), Frame()], messages)
    out = tmp_path / "out"
    argv = ["replay", str(bag), "--out", str(out), "--model", str(metric_model), "--no-progress"]
    assert main([*argv, "--gt-depth-topic", "/depth_cam/image_raw"]) == 0
    page = _Page((out / "report.html").read_text())
    latency = page.table_with("stage", "p50 (ms)", "p95 (ms)", "max (ms)")
    assert [row[0] for row in latency[1:]] == ["decode", "inference", "points", "total", "navigation"]
    metrics = page.table_with("metric", "as predicted", "median-scaled")
    assert metrics[1][0] == "abs_rel" and len(metrics) == 11
    assert page.table_with("reason", "count")[1] == ["bad_image", "1"]
    assert max(len(t) for t in page.tables) <= 20  # no 75-row table
    labels = [row[0] for t in page.tables for row in t if row]
    assert not any(label.startswith(("latency_ms.", "depth_metrics.")) for label in labels)


def test_table_cells_are_escaped_and_links_quoted() -> None:
    evil = "<script>x</script>"
    text = table([evil], [[evil], [link("bags/a b/c.mcap", evil)], [Html("<b>kept</b>")]])
    assert "<script>" not in text and text.count("&lt;script&gt;") == 3
    assert 'href="bags/a%20b/c.mcap"' in text and "<b>kept</b>" in text
