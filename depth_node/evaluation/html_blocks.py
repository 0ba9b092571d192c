"""Pieces of a static results page: tables, key-value lists, figures, the page around them.

Every piece is a string of HTML in which all text from a report (topic names, file names, values) is
escaped here; a :class:`Html` cell is the one way to pass markup through (a link made by :func:`link`).
The page is sized for a 1400 px wide window, the width the figures are drawn for
(:data:`depth_node.evaluation.report.PAGE_WIDTH_IN`).
"""

from __future__ import annotations

import html
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

PAGE_WIDTH_PX = 1400
STYLE = (
    f"body{{font-family:system-ui,sans-serif;max-width:{PAGE_WIDTH_PX}px;margin:2em auto;padding:0 1em;"
    "color:#222;line-height:1.4}"
    "h1{margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "td,th{border:1px solid #ccc;padding:3px 10px;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}tbody tr:nth-child(even){background:#fafafa}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;font-family:monospace}"
    ".ok{color:#1a7f37;font-weight:600}.fail{color:#c62828;font-weight:600}"
    ".warn{background:#fff4e5;border-left:4px solid #f0a020;padding:.5em 1em;margin:.5em 0}"
    ".note{color:#555}figure{margin:1.5em 0}img{max-width:100%}figcaption{color:#555;margin-top:.3em}"
    ".tables{display:flex;flex-wrap:wrap;gap:0 2.5em;align-items:flex-start}"
)


class Html(str):
    """Markup made by this module (a link, a coloured verdict): inserted into a table as it is."""


def esc(text: object) -> str:
    """Escape for element text and attribute values alike."""
    return html.escape(str(text), quote=True)


def format_value(value: Any) -> str:
    """A table cell: floats to 4 significant digits, integers exact, None as an em dash."""
    if value is None or (isinstance(value, Mapping) and not value):
        return "—"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value) if value else "—"
    return str(value)


def link(href: str, text: str) -> Html:
    """A link to a file beside the page (the path is URL-quoted) or to an ``#anchor`` of the page."""
    target = href if href.startswith("#") else urllib.parse.quote(href)
    return Html(f'<a href="{esc(target)}">{esc(text)}</a>')


def verdict(ok: bool, text: str) -> Html:
    """Text in the page's pass (green) or fail (red) colour."""
    return Html(f'<span class="{"ok" if ok else "fail"}">{esc(text)}</span>')


def _cell(value: Any) -> str:
    if isinstance(value, Html):
        return f"<td>{value}</td>"
    numeric = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    return f'<td class="n">{esc(format_value(value))}</td>' if numeric else f"<td>{esc(format_value(value))}</td>"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], caption: str | None = None) -> str:
    """A table with a header row; numbers right-aligned, :class:`Html` cells as they are."""
    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in headers) + "</tr></thead><tbody>")
    parts += ["<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows]
    parts.append("</tbody></table>")
    return "\n".join(parts)


def key_values(pairs: Mapping[str, Any] | Sequence[tuple[str, Any]], heading: str | None = None) -> str:
    """A two-column table of labelled values (a nested mapping's keys joined with dots)."""
    items = list(pairs.items()) if isinstance(pairs, Mapping) else list(pairs)
    rows = []
    for key, value in items:
        if isinstance(value, Mapping) and value:
            rows += [(f"{key}.{k}", v) for k, v in flatten_raw(value)]
        else:
            rows.append((key, "—" if isinstance(value, Mapping) else value))
    head = f"<h3>{esc(heading)}</h3>" if heading else ""
    body = "\n".join(f"<tr><th>{esc(k)}</th>{_cell(v)}</tr>" for k, v in rows)
    return f"<div>{head}<table><tbody>\n{body}\n</tbody></table></div>"


def flatten_raw(summary: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, raw value) rows of a nested mapping, in its own order."""
    rows: list[tuple[str, Any]] = []
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            rows.extend(flatten_raw(value, f"{name}."))
        else:
            rows.append((name, value))
    return rows


def side_by_side(*blocks: str) -> str:
    """Blocks (tables) next to each other while the page is wide enough, stacked otherwise."""
    return '<div class="tables">' + "".join(b for b in blocks if b) + "</div>"


def warnings_block(warnings: Sequence[str]) -> str:
    """Each warning in a highlighted box ('' when there is none)."""
    return "".join(f'<p class="warn">{esc(w)}</p>' for w in warnings)


def figures(items: Sequence[tuple[str, str]]) -> str:
    """Figures (PNG file beside the page, caption) in order."""
    return "\n".join(
        f'<figure><img src="{esc(urllib.parse.quote(name))}" alt="{esc(caption)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
        for name, caption in items
    )


def section(heading: str, *blocks: str, anchor: str | None = None) -> str:
    """An h2 with its blocks; ``anchor`` makes it a link target (``#anchor``)."""
    ident = f' id="{esc(anchor)}"' if anchor else ""
    return f"<h2{ident}>{esc(heading)}</h2>\n" + "\n".join(b for b in blocks if b)


def page(title: str, blocks: Sequence[str], subtitle: str | None = None) -> str:
    """The whole self-contained page: no script, no external stylesheet."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if subtitle:
        parts.append(f'<p class="note">{esc(subtitle)}</p>')
    parts += [b for b in blocks if b]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
