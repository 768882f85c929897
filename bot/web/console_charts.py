"""Charts of the web console drawn on the server as inline SVG (no script, no CDN, CSP-safe).

Each function returns markup that scales with the page width (``viewBox``)
and carries a ``<title>`` per point, so a long press on a phone shows the value.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#2b6cb0", "#2f855a", "#d69e2e", "#c53030", "#6b46c1", "#319795", "#b83280", "#718096")
W, H, LEFT, BOTTOM, TOP = 320, 160, 34, 22, 10


def _x(i: int, n: int) -> float:
    return LEFT + 4 + (W - LEFT - 22) * (i / (n - 1) if n > 1 else 0.5)


def line_chart(labels: Sequence[str], series: dict[str, Sequence[float | None]], chart_id: str) -> Markup:
    """Return rates (0–1) per week as lines with a 0–100% axis; a missing value breaks the line."""
    plot = H - BOTTOM - TOP
    parts = [f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {W} {H}" role="img" '
             f'aria-label="趋势图" xmlns="http://www.w3.org/2000/svg">']
    for pct in (0, 50, 100):
        y = TOP + plot * (1 - pct / 100)
        parts.append(f'<line x1="{LEFT}" x2="{W - 4}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>'
                     f'<text x="{LEFT - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" fill="#718096">{pct}%</text>')
    n = len(labels)
    for i, label in enumerate(labels):
        parts.append(f'<text x="{_x(i, n):.1f}" y="{H - 6}" font-size="9" text-anchor="middle" '
                     f'fill="#718096">{escape(label)}</text>')
    for k, (name, values) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        run: list[str] = []
        for i, value in enumerate([*values, None]):
            if value is None:
                if len(run) > 1:
                    parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(run)}"/>')
                run = []
                continue
            x, y = _x(i, n), TOP + plot * (1 - value)
            run.append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}">'
                         f'<title>{escape(name)} {escape(labels[i])}：{value * 100:.1f}%</title></circle>')
    parts.append("</svg>")
    return Markup("".join(parts)) + legend(list(series))


def stacked_bars(labels: Sequence[str], series: dict[str, Sequence[int]], chart_id: str) -> Markup:
    """Return counts per week stacked by series (e.g. tickets by category)."""
    plot, n = H - BOTTOM - TOP, len(labels)
    totals = [sum(values[i] for values in series.values()) for i in range(n)]
    top = max(totals, default=0) or 1
    width = (W - LEFT - 8) / max(n, 1) * 0.6
    parts = [f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {W} {H}" role="img" '
             f'aria-label="柱状图" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="{LEFT - 4}" y="{TOP + 4}" font-size="10" text-anchor="end" fill="#718096">{top}</text>',
             f'<line x1="{LEFT}" x2="{W - 4}" y1="{TOP + plot}" y2="{TOP + plot}" stroke="#cbd5e0"/>']
    for i, label in enumerate(labels):
        x = LEFT + (W - LEFT - 8) * (i + 0.5) / max(n, 1)
        parts.append(f'<text x="{x:.1f}" y="{H - 6}" font-size="9" text-anchor="middle" fill="#718096">'
                     f'{escape(label)}</text>')
        y = TOP + plot
        for k, (name, values) in enumerate(series.items()):
            if not values[i]:
                continue
            height = plot * values[i] / top
            y -= height
            parts.append(f'<rect x="{x - width / 2:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
                         f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(name)} {escape(label)}：{values[i]} 件'
                         f'</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts)) + legend(list(series))


def meter(rate: float | None) -> Markup:
    """Return a thin horizontal bar for a 0–1 share (grey when undefined)."""
    width = 0 if rate is None else round(max(0.0, min(1.0, rate)) * 100)
    color = "#c53030" if rate is not None and rate < 0.6 else "#2f855a"
    return Markup(f'<svg class="meter" viewBox="0 0 100 6" preserveAspectRatio="none" '
                  f'xmlns="http://www.w3.org/2000/svg"><rect width="100" height="6" fill="#e2e8f0"/>'
                  f'<rect width="{width}" height="6" fill="{color}"/></svg>')


def legend(names: Sequence[str]) -> Markup:
    """Return the colour key of a chart."""
    items = "".join(f'<span><i style="background:{PALETTE[k % len(PALETTE)]}"></i>{escape(name)}</span>'
                    for k, name in enumerate(names))
    return Markup(f'<div class="legend">{items}</div>')
