"""The look of report plots: a colour-blind-safe palette (Okabe and Ito 2008), markers and
line styles that also tell series apart in grey print, an opaque white canvas that reads the
same on a light or a dark page, and PNG encoding (matplotlib's Agg backend, no display)."""
from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # headless: never open a window or need a display

import matplotlib.pyplot as plt  # noqa: E402

#: Okabe-Ito colours, in the order series use them (black last: reserved for references).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
LINESTYLES = ["-", "--", "-.", ":"]

RC = {
    "figure.facecolor": "white", "axes.facecolor": "white", "savefig.facecolor": "white",
    "axes.edgecolor": "#333333", "axes.labelcolor": "#111111", "text.color": "#111111",
    "xtick.color": "#333333", "ytick.color": "#333333", "axes.grid": True,
    "grid.color": "#d0d0d0", "grid.linewidth": 0.6, "font.size": 10, "axes.titlesize": 11,
    "legend.frameon": True, "legend.framealpha": 0.9, "lines.linewidth": 1.8,
    "axes.spines.top": False, "axes.spines.right": False,
}


@dataclass
class Figure:
    """A rendered plot: ``slug`` names its file, ``alt`` describes it for screen readers and
    for readers of the Markdown without images."""

    slug: str
    title: str
    alt: str
    png: bytes


def new_figure(width: float = 6.4, height: float = 3.8, ncols: int = 1):
    """A figure and its axes under the report style."""
    with plt.rc_context(RC):
        fig, axes = plt.subplots(1, ncols, figsize=(width, height), squeeze=False)
    for ax in axes[0]:
        ax.set_facecolor("white")
        ax.grid(True, color=RC["grid.color"], linewidth=RC["grid.linewidth"])
        ax.spines["top"].set_visible(False)
        ax.spines["right"].set_visible(False)
    return fig, list(axes[0])


def render(fig, slug: str, title: str, alt: str) -> Figure:
    """Encode ``fig`` as PNG (144 dpi, tight) and close it."""
    buffer = io.BytesIO()
    with plt.rc_context(RC):
        fig.tight_layout()
        fig.savefig(buffer, format="png", dpi=144, bbox_inches="tight")
    plt.close(fig)
    return Figure(slug, title, alt, buffer.getvalue())


def series_style(i: int) -> dict:
    """Colour, marker and line style of the ``i``-th series."""
    return {"color": PALETTE[i % (len(PALETTE) - 1)], "marker": MARKERS[i % len(MARKERS)],
            "linestyle": LINESTYLES[i % len(LINESTYLES)]}


def axis_label(key: str, unit: str, hint: str = "") -> str:
    """``key (unit; hint)`` for an axis."""
    inside = "; ".join(p for p in (unit, hint) if p)
    return f"{key} ({inside})" if inside else key
