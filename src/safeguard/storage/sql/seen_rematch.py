"""Seen uploads owing a re-match: marked in their write's transaction, cleared once matched.

Every write of seen uploads that were matched (`SqlServiceStore.add_seen` and
`add_seen_many`, given the revision each was matched at) marks, in its own transaction, the
rows matched at an older list revision than the one committed then: a list change committed
between their matching and their write (while a batched row waited in its buffer, or in
the moment between a one-at-a-time match and its insert) re-matched the rows stored before them and
missed them. The revision is read after the insert, and in a way that no list change can
commit between that read and the write's commit:

* SQLite: the insert took the database's write lock, which every list change needs too;
* PostgreSQL: the read takes a share lock on ``hash_list_state``'s row, which every list
  change updates first (its revision bump), and holds it to the commit. When a change holds
  that row already (it is being made), every row of the write is marked, for the change may
  commit before the write does.

A change committed after the write sees the rows (its retroactive job starts after its
commit), so no list change can pass a marked-or-not row by. That holds on PostgreSQL even
though upload ids commit out of order (a job's cursor may pass an id whose row commits
later): see `safeguard.services.platform.retroactive_jobs`. The mark is the revision the row
was matched at; ``ix_service_seen_uploads_rematch`` holds the marked rows only.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, bindparam, select, update

from safeguard.domain.service import SeenUpload
from safeguard.storage.sql.service_rows import seen_from_row
from safeguard.storage.sql.tables_lists import hash_list_state
from safeguard.storage.sql.tables_service import service_seen_uploads as seen_table

_CHUNK = 500
"""Ids per statement when clearing marks."""


def mark_stale(conn: Connection, upload_ids: Sequence[int], revisions: Sequence[int]) -> int:
    """Mark the just-inserted rows matched before the committed list revision; how many.

    Called in the write's transaction (`conn`), after the insert.
    """
    committed = conn.execute(
        select(hash_list_state.c.revision)
        .where(hash_list_state.c.id == 1)
        .with_for_update(read=True, skip_locked=True)  # nothing on SQLite: it needs none
    ).scalar_one_or_none()
    stale = [
        {"b_id": upload_id, "b_revision": revision}
        for upload_id, revision in zip(upload_ids, revisions, strict=True)
        if committed is None or revision < committed
    ]
    if stale:
        conn.execute(
            update(seen_table)
            .where(seen_table.c.upload_id == bindparam("b_id"))
            .values(rematch_revision=bindparam("b_revision")),
            stale,
        )
    return len(stale)


def marked(engine: Engine, limit: int) -> list[SeenUpload]:
    """Up to `limit` marked rows, by id."""
    query = (
        select(seen_table)
        .where(seen_table.c.rematch_revision.is_not(None))
        .order_by(seen_table.c.upload_id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [seen_from_row(row) for row in conn.execute(query)]


def clear(engine: Engine, upload_ids: Sequence[int]) -> None:
    """Clear the marks of these rows (rows without one are left alone)."""
    ids = sorted(set(upload_ids))
    with engine.begin() as conn:
        for start in range(0, len(ids), _CHUNK):
            conn.execute(
                update(seen_table)
                .where(
                    seen_table.c.upload_id.in_(ids[start : start + _CHUNK]),
                    seen_table.c.rematch_revision.is_not(None),
                )
                .values(rematch_revision=None)
            )
