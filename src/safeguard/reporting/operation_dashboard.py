"""The operation dashboard as a page (tables and inline SVG charts) and as CSV.

Charts are SVG written here, inline in the page: no scripts, no external assets, readable
by a screen reader through their titles and the tables beside them.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC
from html import escape

from safeguard.domain.package_outcomes import FIGURE_FIELDS, Dashboard, Figures

LABELS = {
    "packages": "Packages disseminated",
    "premises_searched": "Premises searched",
    "arrests": "Arrests",
    "voluntary_interviews": "Voluntary interviews",
    "charges": "Charges",
    "devices_seized": "Devices seized",
    "devices_examined": "Devices examined",
    "children_safeguarded": "Children safeguarded",
    "children_at_serious_risk": "of whom at serious risk",
    "registered_sex_offenders": "Registered sex offenders",
}


def bar_chart_svg(title: str, bars: list[tuple[str, int]], width: int = 760) -> str:
    """A horizontal bar chart as an inline SVG element (label, value per bar)."""
    row, label_w, pad = 18, 290, 4
    height = max(1, len(bars)) * row + 24
    top = max((v for _, v in bars), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="14" font-size="13" font-weight="600">{escape(title)}</text>',
    ]
    span = width - label_w - 60
    for i, (label, value) in enumerate(bars):
        y = 24 + i * row
        w = round(span * value / top)
        parts.append(
            f'<text x="{label_w - pad}" y="{y + 13}" font-size="11" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y + 2}" width="{w}" height="{row - 5}" fill="#2f5f8a">'
            f"<title>{escape(label)}: {value}</title></rect>"
            f'<text x="{label_w + w + pad}" y="{y + 13}" font-size="11" data-value="{value}">'
            f"{value}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(head: str, rows: list[tuple[str, Figures]], total: Figures | None) -> str:
    cells = "".join(f"<th>{escape(LABELS[f])}</th>" for f in FIGURE_FIELDS)
    out = [f"<table><tr><th>{escape(head)}</th>{cells}</tr>"]
    for name, figures in rows:
        values = "".join(
            f'<td class="n" data-field="{f}">{v}</td>'
            for f, v in zip(FIGURE_FIELDS, figures.row(), strict=True)
        )
        out.append(f"<tr><td>{escape(name)}</td>{values}</tr>")
    if total is not None:
        values = "".join(
            f'<td class="n" data-total="{f}">{v}</td>'
            for f, v in zip(FIGURE_FIELDS, total.row(), strict=True)
        )
        out.append(f'<tr class="total"><th>Total</th>{values}</tr>')
    out.append("</table>")
    return "".join(out)


def render_dashboard_html(dashboard: Dashboard) -> str:
    """The dashboard page: national totals, per force, over time, workflow; charts inline."""
    n = dashboard.national
    headline = "".join(
        f'<div class="figure"><span class="v" data-national="{f}">{getattr(n, f)}</span>'
        f"<span>{escape(LABELS[f])}</span></div>"
        for f in FIGURE_FIELDS
    )
    forces = [(name, figures) for _key, name, figures in dashboard.by_force]
    months = list(dashboard.by_month)
    charts = [
        bar_chart_svg("Arrests by force", [(name, f.arrests) for name, f in forces]),
        bar_chart_svg(
            "Children safeguarded by force", [(name, f.children_safeguarded) for name, f in forces]
        ),
        bar_chart_svg("Arrests by month", [(m, f.arrests) for m, f in months]),
        bar_chart_svg(
            "Children safeguarded by month", [(m, f.children_safeguarded) for m, f in months]
        ),
    ]
    workflow = "".join(
        f'<tr><td>{escape(state)}</td><td class="n" data-state="{escape(state)}">{count}</td></tr>'
        for state, count in dashboard.workflow
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{escape(dashboard.title)}: dashboard</title>
<style>
body {{ font: 13px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; }}
table {{ border-collapse: collapse; margin: .5rem 0 1.2rem; }}
th, td {{ border: 1px solid #bbb; padding: .2rem .45rem; text-align: left; }}
th {{ background: #eee; font-weight: 600; }} td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
tr > :first-child {{ min-width: 6rem; }} /* a month (2026-02) stays on one line */
.figures {{ display: flex; flex-wrap: wrap; gap: .6rem; }}
.figure {{ border: 1px solid #bbb; padding: .4rem .7rem; min-width: 8rem; }}
.figure .v {{ display: block; font-size: 1.6rem; font-weight: 700; }}
.chart {{ display: block; margin: .6rem 0; }}
</style></head><body>
<h1>{escape(dashboard.title)}</h1>
<p>Figures from the outcomes forces recorded (the latest report per package), generated {dashboard.generated_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC.
Devices examined are exhibits of the linked forensic cases with a completed scan.</p>
<h2>National</h2><div class="figures">{headline}</div>
<h2>By force</h2>{_table("Force", forces, n)}
{charts[0]}{charts[1]}
<h2>Over time (by date of action)</h2>{_table("Month", months, None)}
{charts[2]}{charts[3]}
<h2>Workflow</h2><table><tr><th>State</th><th>Packages</th></tr>{workflow}</table>
</body></html>
"""


def dashboard_csv(dashboard: Dashboard) -> str:
    """The dashboard as CSV: one row per force, the national total, one row per month."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["scope", "key", "name", *FIGURE_FIELDS])
    for key, name, figures in dashboard.by_force:
        writer.writerow(["force", key, name, *figures.row()])
    writer.writerow(["national", "", dashboard.title, *dashboard.national.row()])
    for month, figures in dashboard.by_month:
        writer.writerow(["month", month, month, *figures.row()])
    return buffer.getvalue()
