"""The report as one self-contained HTML page: inline CSS, plots as base64 PNG data URIs, no
script and no network. Light and dark colour schemes follow the reader's setting; print uses
the light one."""
from __future__ import annotations

import base64
from html import escape

from obliviate.reports.document import Card, Document, Section
from obliviate.reports.style import Figure
from obliviate.reports.tables import Table

#: Nothing may load from anywhere: images only from data URIs, styles only inline, no script.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
:root { --bg: #ffffff; --fg: #1b1b1b; --muted: #5c5c5c; --line: #d5d5d5; --head: #f1f3f5;
  --better: #0b6e4f; --worse: #b2460a; --unclear: #7a6a00; --link: #0b5cad; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #15171a; --fg: #e8e8e8; --muted: #a8a8a8; --line: #3a3f45; --head: #22262b;
    --better: #5fd3a6; --worse: #ffa36b; --unclear: #e8d36a; --link: #8cc4ff; } }
@media print { :root { --bg: #fff; --fg: #000; --muted: #444; --line: #999; --head: #eee;
  --better: #0b6e4f; --worse: #b2460a; --unclear: #6b5d00; --link: #000; }
  nav { display: none; } section { break-inside: avoid-page; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1180px; padding: 24px; background: var(--bg);
  color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 32px 0 10px;
  border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.subtitle { color: var(--muted); margin: 0 0 16px; }
a { color: var(--link); }
nav { font-size: 13px; margin-bottom: 8px; } nav a { margin-right: 12px; white-space: nowrap; }
dl.card { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0;
  padding: 14px 18px; border: 1px solid var(--line); border-radius: 8px; background: var(--head); }
dl.card dt { color: var(--muted); } dl.card dd { margin: 0; overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { border: 1px solid var(--line); padding: 4px 8px; vertical-align: top; text-align: left; }
th { background: var(--head); position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.better { color: var(--better); font-weight: 600; } td.better::before { content: "\\2713  "; }
td.worse { color: var(--worse); font-weight: 600; } td.worse::before { content: "\\2717  "; }
td.unclear { color: var(--unclear); } td.unclear::before { content: "~ "; }
td.better, td.worse, td.unclear, table.nowrap td { white-space: nowrap; }
table.text { table-layout: fixed; } table.text td { overflow-wrap: anywhere; }
table.text th:first-child { width: 8%; }
td.best { font-weight: 700; text-decoration: underline; }
figure { margin: 12px 0; } figure img { max-width: 100%; height: auto; border-radius: 6px;
  border: 1px solid var(--line); background: #fff; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
p.note { color: var(--muted); font-size: 13px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
"""


def data_uri(figure: Figure) -> str:
    return "data:image/png;base64," + base64.b64encode(figure.png).decode("ascii")


def _card(card: Card) -> str:
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in card.pairs)
    return f'<dl class="card">{items}</dl>'


def _table(table: Table) -> str:
    head = "".join(f'<th scope="col">{escape(h).replace("/", "/<wbr>")}</th>'
                   for h in table.headers)
    body = []
    for row in table.rows:
        cells = []
        for i, cell in enumerate(row):
            classes = " ".join(c for c in ("num" if i in table.numeric else "", cell.tag) if c)
            attr = f' class="{classes}"' if classes else ""
            cells.append(f"<td{attr}>{escape(cell.text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    css = f' class="{table.layout}"' if table.layout else ""
    return (f'<div class="table-wrap"><table{css}><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _figure(figure: Figure) -> str:
    return (f'<figure><img src="{data_uri(figure)}" alt="{escape(figure.alt)}" '
            f'loading="eager"><figcaption>{escape(figure.title)}</figcaption></figure>')


def _block(block: object) -> str:
    if isinstance(block, Card):
        return _card(block)
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        return _figure(block)
    return f'<p class="note">{escape(str(block))}</p>'


def _section(section: Section) -> str:
    inner = "\n".join(_block(b) for b in section.blocks)
    return (f'<section id="{escape(section.anchor)}"><h2>{escape(section.title)}</h2>\n'
            f"{inner}</section>")


def render_html(document: Document, footer: str = "") -> str:
    """The whole page as a string."""
    nav = " ".join(f'<a href="#{escape(s.anchor)}">{escape(s.title)}</a>'
                   for s in document.sections if s.in_nav)
    body = "\n".join(_section(s) for s in document.sections)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        f"<title>{escape(document.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{escape(document.title)}</h1>"
        f'<p class="subtitle">{escape(document.subtitle)}</p>\n<nav>{nav}</nav></header>\n'
        f"<main>\n{body}\n</main>\n<footer>{escape(footer)}</footer>\n</body>\n</html>\n")
