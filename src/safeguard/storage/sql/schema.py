"""The one `MetaData` every table module registers on, and dialect-neutral column helpers.

Each feature keeps its tables in its own module (`tables_<feature>.py`) and its migrations
on its own Alembic branch (`migrations/versions/<feature>_NNNN_*.py`, `branch_labels`),
so features evolve without editing each other's files. `upgrade heads` brings all up.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, DateTime, Integer, MetaData
from sqlalchemy.types import TypeEngine

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for 10M+ rows.
BigId: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")

UtcDateTime = DateTime(timezone=True)
