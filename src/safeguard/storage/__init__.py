"""State adapters: repository protocols, an in-memory fake, and SQL on SQLAlchemy.

Importing this package must not pull in SQLAlchemy; only `storage.sql` does.
"""
