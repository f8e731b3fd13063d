"""The report as Markdown (GitHub-flavoured tables). Plots are PNG files in a folder next to the
Markdown file, linked relatively with their alt text, since most Markdown viewers do not show
data URIs."""
from __future__ import annotations

from pathlib import Path

from obliviate.reports.document import Card, Document, Section
from obliviate.reports.style import Figure
from obliviate.reports.tables import Table

VERDICT_MARK = {"better": "✓ ", "worse": "✗ ", "unclear": "~ ", "best": "**"}


def _text(value: str) -> str:
    """One table cell: pipes escaped, line breaks flattened."""
    return " ".join(str(value).replace("|", "\\|").split())


def _cell(text: str, tag: str) -> str:
    text = _text(text)
    if tag == "best":
        return f"**{text}**"
    return VERDICT_MARK.get(tag, "") + text


def _table(table: Table) -> str:
    align = ["---:" if i in table.numeric else "---" for i in range(len(table.headers))]
    lines = ["| " + " | ".join(_text(h) for h in table.headers) + " |",
             "| " + " | ".join(align) + " |"]
    for row in table.rows:
        lines.append("| " + " | ".join(_cell(c.text, c.tag) for c in row) + " |")
    return "\n".join(lines)


def _card(card: Card) -> str:
    return "\n".join(f"- **{k}**: {v}" for k, v in card.pairs)


def figure_name(section: Section, figure: Figure) -> str:
    return f"{section.anchor}-{figure.slug}.png"


def _figure(section: Section, figure: Figure, folder: str) -> str:
    alt = figure.alt.replace("[", "(").replace("]", ")").replace("\n", " ")
    return f"![{alt}]({folder}/{figure_name(section, figure)})\n\n*{figure.title}*"


def render_markdown(document: Document, plots_folder: str, footer: str = "") -> str:
    """The Markdown text; figures are linked as ``plots_folder/<anchor>-<slug>.png``."""
    parts = [f"# {document.title}", f"_{document.subtitle}_"]
    for section in document.sections:
        parts.append(f"## {section.title}")
        for block in section.blocks:
            if isinstance(block, Card):
                parts.append(_card(block))
            elif isinstance(block, Table):
                parts.append(_table(block))
            elif isinstance(block, Figure):
                parts.append(_figure(section, block, plots_folder))
            else:
                parts.append(str(block))
    if footer:
        parts.append(f"---\n{footer}")
    return "\n\n".join(parts) + "\n"


def write_figures(document: Document, folder: Path) -> list[Path]:
    """Write every figure of ``document`` as PNG into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for section in document.sections:
        for block in section.blocks:
            if isinstance(block, Figure):
                path = folder / figure_name(section, block)
                path.write_bytes(block.png)
                written.append(path)
    return written
