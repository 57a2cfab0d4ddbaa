"""A tiny RDSv3-shaped SQLite database (minimal schema) built in tests; stand-in digests only."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

SCHEMA = (
    "CREATE TABLE FILE (sha256 TEXT, sha1 TEXT, md5 TEXT, crc32 TEXT, file_name TEXT,"
    " file_size INTEGER, package_id INTEGER)",
    "CREATE INDEX FILE_sha1 ON FILE (sha1)",
    "CREATE INDEX FILE_md5 ON FILE (md5)",
    "CREATE INDEX FILE_sha256 ON FILE (sha256)",
    "CREATE TABLE PKG (package_id INTEGER, name TEXT, version TEXT, operating_system_id INTEGER,"
    " manufacturer_id INTEGER, language TEXT, application_type TEXT)",
    "CREATE TABLE VERSION (version TEXT UNIQUE, build_set TEXT, build_date TEXT,"
    " release_date TEXT, description TEXT)",
)


def write_tiny_rds(path: Path, rows: Sequence[tuple[str, str, str, str]]) -> Path:
    """Write (sha256, sha1, md5, file_name) rows as an RDSv3 minimal database; upper-case hex."""
    with sqlite3.connect(path) as connection:
        for statement in SCHEMA:
            connection.execute(statement)
        connection.executemany(
            "INSERT INTO FILE VALUES (?, ?, ?, '00000000', ?, 10, 1)",
            [(s256.upper(), s1.upper(), m5.upper(), name) for s256, s1, m5, name in rows],
        )
        connection.execute("INSERT INTO PKG VALUES (1, 'Stand-in tool', '1.0', 1, 1, 'en', 'x')")
        connection.execute(
            "INSERT INTO VERSION VALUES ('2024.03.1', 'modern', '2024-03-01', '2024-03-15', 'test')"
        )
    connection.close()
    return path
