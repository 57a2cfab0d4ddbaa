"""Tables of ranked subjects and of an assessment's factors (for `intel` and the demo)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table

from safeguard.services.intel import records

if TYPE_CHECKING:
    from safeguard.services.intel.subjects import RankedSubject


def ranked_table(rows: list[RankedSubject], title: str = "Subjects by priority") -> Table:
    """The ranked list as a table (the demo shows it too)."""
    table = Table(title=title)
    for column in ("id", "subject", "band", "computed", "score", "referrals", "network"):
        table.add_column(
            column, justify="right" if column in ("id", "score", "referrals") else "left"
        )
    for row in rows:
        record = records.ranked_record(row)
        network = (
            f"{record['network_id']} ({record['network_size']})" if record["network_id"] else ""
        )
        table.add_row(
            str(record["id"]),
            record["label"],
            record["band"] + (" *" if record["overridden"] else ""),
            record["computed_band"],
            str(record["score"]),
            str(record["referrals"]),
            network,
        )
    return table


def factors_table(assessment: dict[str, Any] | None, title: str) -> Table:
    """Every factor of an assessment with its points, tool and reason."""
    table = Table(title=title)
    for column in ("factor", "points", "tool", "why"):
        table.add_column(column, justify="right" if column == "points" else "left")
    for factor in (assessment or {}).get("factors", []):
        table.add_row(factor["factor"], str(factor["points"]), factor["tool"], factor["reason"])
    return table
