"""SQL storage on SQLAlchemy Core, for SQLite (default) and PostgreSQL (production)."""
