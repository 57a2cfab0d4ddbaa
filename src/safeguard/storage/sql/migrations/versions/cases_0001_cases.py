"""Case store: cases, exhibits, scan runs, file results and the append-only audit log.

Revision ID: cases_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "cases_0001"
down_revision = None
branch_labels = ("cases",)
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UTC = sa.DateTime(timezone=True)

_SQLITE_GUARDS = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
)
_POSTGRES_GUARDS = (
    "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$",
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(200), nullable=False),
        sa.Column("examiner", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("number", name="uq_cases_number"),
    )
    op.create_table(
        "exhibits",
        sa.Column("id", _BIG_ID, autoincrement=True),
        sa.Column("case_id", _BIG_ID, nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("source_path", sa.Text, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("acquisition_hash", sa.String(200)),
        sa.Column("acquisition_verified", sa.Boolean),
        sa.Column("manifest_sha256", sa.String(64)),
        sa.Column("created_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_exhibits"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_exhibits_case_id_cases"),
        sa.UniqueConstraint("case_id", "reference", name="uq_exhibits_case_reference"),
    )
    op.create_table(
        "scan_runs",
        sa.Column("id", _BIG_ID, autoincrement=True),
        sa.Column("exhibit_id", _BIG_ID, nullable=False),
        sa.Column("started_at", _UTC, nullable=False),
        sa.Column("finished_at", _UTC),
        sa.Column("tool_version", sa.String(50), nullable=False),
        sa.Column("examiner", sa.String(200), nullable=False),
        sa.Column("lists", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("files_recorded", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scan_runs"),
        sa.ForeignKeyConstraint(
            ["exhibit_id"], ["exhibits.id"], name="fk_scan_runs_exhibit_id_exhibits"
        ),
    )
    op.create_index("ix_scan_runs_exhibit_id", "scan_runs", ["exhibit_id"])
    op.create_table(
        "file_results",
        sa.Column("id", _BIG_ID, autoincrement=True),
        sa.Column("exhibit_id", _BIG_ID, nullable=False),
        sa.Column("run_id", _BIG_ID, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("size", _BIG_ID),
        sa.Column("md5", sa.String(32)),
        sa.Column("sha1", sa.String(40)),
        sa.Column("sha256", sa.String(64)),
        sa.Column("pdq", sa.String(64)),
        sa.Column("pdq_quality", sa.Integer),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("modified", _UTC),
        sa.Column("accessed", _UTC),
        sa.Column("created", _UTC),
        sa.Column("changed", _UTC),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("category_scheme", sa.String(50), nullable=False),
        sa.Column("category_code", sa.String(20), nullable=False),
        sa.Column("category_label", sa.Text, nullable=False),
        sa.Column("matches", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_file_results"),
        sa.ForeignKeyConstraint(
            ["exhibit_id"], ["exhibits.id"], name="fk_file_results_exhibit_id_exhibits"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["scan_runs.id"], name="fk_file_results_run_id_scan_runs"
        ),
        sa.UniqueConstraint("exhibit_id", "path", name="uq_file_results_exhibit_path"),
    )
    op.create_index("ix_file_results_exhibit_status", "file_results", ["exhibit_id", "status"])
    op.create_table(
        "audit_events",
        sa.Column("id", _BIG_ID, autoincrement=True),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("case_id", _BIG_ID),
        sa.Column("exhibit_id", _BIG_ID),
        sa.Column("detail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_audit_events_case_id_cases"),
        sa.ForeignKeyConstraint(
            ["exhibit_id"], ["exhibits.id"], name="fk_audit_events_exhibit_id_exhibits"
        ),
    )
    op.create_index("ix_audit_events_case_id", "audit_events", ["case_id"])
    dialect = op.get_bind().dialect.name
    guards = {"sqlite": _SQLITE_GUARDS, "postgresql": _POSTGRES_GUARDS}.get(dialect, ())
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TABLE audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    else:
        op.drop_table("audit_events")
    op.drop_table("file_results")
    op.drop_table("scan_runs")
    op.drop_table("exhibits")
    op.drop_table("cases")
