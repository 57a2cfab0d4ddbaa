"""Tables of the hash-list feature (Alembic branch ``lists``).

``hash_lists`` holds one row per list; ``hash_list_entries`` one row per entry, with each
digest algorithm in its own indexed column and PDQ also as 32 raw bytes, so an index can be
built without parsing hex. ``hash_list_pdq_removals``, ``hash_list_removals`` (the other
removed entries) and ``hash_list_state.revision`` form the change log that lets PDQ and exact
indexes catch up incrementally.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from safeguard.storage.sql.schema import BigId, UtcDateTime, metadata

hash_lists = Table(
    "hash_lists",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("source", Text, nullable=False, default=""),
    Column("version", Text, nullable=False, default=""),
    Column("imported_at", UtcDateTime, nullable=True),
    Column("pdq_threshold", Integer, nullable=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("action", String(200), nullable=True),
    Column("entry_count", BigInteger, nullable=False, default=0),
    # Set for reference lists (NSRL) that are queried where they lie.
    Column("location", Text, nullable=True),
    sqlite_autoincrement=True,
)

hash_list_entries = Table(
    "hash_list_entries",
    metadata,
    # AUTOINCREMENT on SQLite: row ids key PDQ indexes and must never be reused.
    Column("id", BigId, primary_key=True),
    Column(
        "list_id",
        Integer,
        ForeignKey("hash_lists.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("entry_id", Text, nullable=False),
    Column("md5", String(32), nullable=True),
    Column("sha1", String(40), nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("pdq", String(64), nullable=True),
    Column("pdq_bits", LargeBinary(32), nullable=True),
    Column("photodna", Text, nullable=True),
    Column("category_scheme", String(50), nullable=False),
    Column("category_code", String(50), nullable=False),
    Column("category_label", Text, nullable=False),
    Column("source_record_id", Text, nullable=True),
    Column("series", Text, nullable=True),
    Column("victim_identified", Boolean, nullable=True),
    Column("first_seen", Date, nullable=True),
    Column("last_seen", Date, nullable=True),
    Column("notes", Text, nullable=True),
    Column("file_name", Text, nullable=True),
    Column("size", BigInteger, nullable=True),
    Column("added_revision", BigInteger, nullable=False),
    Index("ix_hash_list_entries_list_entry", "list_id", "entry_id"),
    Index("ix_hash_list_entries_md5", "md5"),
    Index("ix_hash_list_entries_sha1", "sha1"),
    Index("ix_hash_list_entries_sha256", "sha256"),
    Index("ix_hash_list_entries_photodna", "photodna"),  # branch "photodna": equal-value matches
    Index("ix_hash_list_entries_added_revision", "added_revision"),
    sqlite_autoincrement=True,
)

hash_list_pdq_removals = Table(
    "hash_list_pdq_removals",
    metadata,
    Column("row_id", BigInteger, primary_key=True),
    Column("revision", BigInteger, nullable=False, index=True),
)

hash_list_removals = Table(
    "hash_list_removals",
    metadata,
    # Removed entries without a PDQ hash (those with one are in hash_list_pdq_removals), so
    # that exact-digest indexes catch up incrementally too. Added by lists_0002.
    Column("row_id", BigInteger, primary_key=True),
    Column("revision", BigInteger, nullable=False, index=True),
)

hash_list_state = Table(
    "hash_list_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("revision", BigInteger, nullable=False),
    Column("store_identity", String(32), nullable=False),
)
