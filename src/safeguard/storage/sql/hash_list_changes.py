"""Reading the hash-list change log for index builds: straight from the driver, in batches.

An index build reads millions of (row id, digest) rows; SQLAlchemy's result rows cost more
per row than the database does, so these reads use `driver_rows`. `SqlHashListStore` wraps
them in its `pdq_rows_since`, `digest_rows_between` and `removed_rows_between`.
"""

from __future__ import annotations

from array import array

from sqlalchemy import Connection

from safeguard.storage.hash_list_store import DigestRows, PdqDelta
from safeguard.storage.sql.hash_list_rows import driver_rows


def pdq_delta(conn: Connection, after: int, upto: int) -> PdqDelta:
    """PDQ rows added in revisions ``after < r <= upto`` and still present, and those removed."""
    ids = array("q")
    # One growing buffer, not a bytes object per row: at 10M rows the per-row objects
    # and their join cost about 1 GB more than the 320 MB of codes.
    codes = bytearray()
    for batch in driver_rows(
        conn,
        "SELECT id, pdq_bits FROM hash_list_entries WHERE pdq_bits IS NOT NULL"
        " AND added_revision > ? AND added_revision <= ? ORDER BY id",
        (after, upto),
    ):
        ids.extend(row[0] for row in batch)
        codes += b"".join(row[1] for row in batch)
    return PdqDelta(ids, codes, removed_rows(conn, after, upto, pdq_only=True), upto)


def digest_rows(conn: Connection, column: str, after: int, upto: int) -> DigestRows:
    """Rows added in revisions ``after < r <= upto``, still present, with a value in `column`."""
    ids = array("q")
    values: list[str] = []
    for batch in driver_rows(
        conn,
        f"SELECT id, {column} FROM hash_list_entries WHERE {column} IS NOT NULL"
        " AND added_revision > ? AND added_revision <= ? ORDER BY id",
        (after, upto),
    ):
        ids.extend(row[0] for row in batch)
        values.extend(row[1] for row in batch)
    return DigestRows(ids, values)


def removed_rows(conn: Connection, after: int, upto: int, *, pdq_only: bool) -> array[int]:
    """Row ids removed in revisions ``after < r <= upto``, ascending.

    Args:
        conn: the connection.
        after: the revision the interval starts after.
        upto: the last revision of the interval.
        pdq_only: only the removed PDQ entries (``hash_list_pdq_removals``); otherwise
            every removed entry (with ``hash_list_removals``).
    """
    logs = (
        ["hash_list_pdq_removals"] if pdq_only else ["hash_list_pdq_removals", "hash_list_removals"]
    )
    removed = array("q")
    for log in logs:
        for batch in driver_rows(
            conn, f"SELECT row_id FROM {log} WHERE revision > ? AND revision <= ?", (after, upto)
        ):
            removed.extend(row[0] for row in batch)
    return array("q", sorted(removed))
