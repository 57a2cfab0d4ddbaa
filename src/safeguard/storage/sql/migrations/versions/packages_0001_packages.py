"""Package store: packages, versions, outcome reports and the append-only package audit log.

Revision ID: packages_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "packages_0001"
down_revision = None
branch_labels = ("packages",)
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UTC = sa.DateTime(timezone=True)

# Events and outcomes are append-only; a version's content and hash never change.
_SQLITE_GUARDS = (
    "CREATE TRIGGER package_events_no_update BEFORE UPDATE ON package_events "
    "BEGIN SELECT RAISE(ABORT, 'package_events is append-only'); END",
    "CREATE TRIGGER package_events_no_delete BEFORE DELETE ON package_events "
    "BEGIN SELECT RAISE(ABORT, 'package_events is append-only'); END",
    "CREATE TRIGGER package_outcomes_no_update BEFORE UPDATE ON package_outcomes "
    "BEGIN SELECT RAISE(ABORT, 'package_outcomes is append-only'); END",
    "CREATE TRIGGER package_outcomes_no_delete BEFORE DELETE ON package_outcomes "
    "BEGIN SELECT RAISE(ABORT, 'package_outcomes is append-only'); END",
    "CREATE TRIGGER package_versions_fixed BEFORE UPDATE OF package_id, number, content, sha256, "
    "created_by, created_at ON package_versions "
    "BEGIN SELECT RAISE(ABORT, 'package versions are immutable'); END",
    "CREATE TRIGGER package_versions_no_delete BEFORE DELETE ON package_versions "
    "BEGIN SELECT RAISE(ABORT, 'package versions are immutable'); END",
)
_POSTGRES_GUARDS = (
    "CREATE FUNCTION package_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
    "CREATE TRIGGER package_events_no_change BEFORE UPDATE OR DELETE ON package_events "
    "FOR EACH ROW EXECUTE FUNCTION package_append_only()",
    "CREATE TRIGGER package_events_no_truncate BEFORE TRUNCATE ON package_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION package_append_only()",
    "CREATE TRIGGER package_outcomes_no_change BEFORE UPDATE OR DELETE ON package_outcomes "
    "FOR EACH ROW EXECUTE FUNCTION package_append_only()",
    "CREATE FUNCTION package_version_fixed() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN IF TG_OP = 'DELETE' OR NEW.content IS DISTINCT FROM OLD.content "
    "OR NEW.sha256 IS DISTINCT FROM OLD.sha256 OR NEW.number IS DISTINCT FROM OLD.number "
    "OR NEW.package_id IS DISTINCT FROM OLD.package_id "
    "THEN RAISE EXCEPTION 'package versions are immutable'; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER package_versions_fixed BEFORE UPDATE OR DELETE ON package_versions "
    "FOR EACH ROW EXECUTE FUNCTION package_version_fixed()",
)


def upgrade() -> None:
    op.create_table(
        "packages",
        sa.Column("id", _BIG_ID, autoincrement=True),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("subject_reference", sa.String(200), nullable=False),
        sa.Column("band", sa.String(20), nullable=False),
        sa.Column("destination", sa.String(60), nullable=False),
        sa.Column("routing_method", sa.String(20), nullable=False),
        sa.Column("routing_detail", sa.Text, nullable=False),
        sa.Column("routing_reason", sa.Text, nullable=False),
        sa.Column("routing_by", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=False),
        sa.Column("approved_at", _UTC),
        sa.Column("issued_at", _UTC),
        sa.Column("due_at", _UTC),
        sa.Column("acknowledged_at", _UTC),
        sa.Column("actioned_at", _UTC),
        sa.Column("closed_at", _UTC),
        sa.Column("returned_reason", sa.Text, nullable=False),
        sa.Column("updated_at", _UTC),
        sa.PrimaryKeyConstraint("id", name="pk_packages"),
        sa.UniqueConstraint("reference", name="uq_packages_reference"),
    )
    op.create_index("ix_packages_subject_reference", "packages", ["subject_reference"])
    op.create_index("ix_packages_destination_state", "packages", ["destination", "state"])
    op.create_table(
        "package_versions",
        sa.Column("id", _BIG_ID, autoincrement=True),
        sa.Column("package_id", _BIG_ID, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("issued_at", _UTC),
        sa.Column("issued_html_sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_package_versions"),
        sa.ForeignKeyConstraint(
            ["package_id"], ["packages.id"], name="fk_package_versions_package_id_packages"
        ),
        sa.UniqueConstraint("package_id", "number", name="uq_package_versions_package_number"),
    )
    op.create_table(
        "package_outcomes",
        sa.Column("id", _BIG_ID, autoincrement=True),
        sa.Column("package_id", _BIG_ID, nullable=False),
        sa.Column("force", sa.String(60), nullable=False),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("premises_searched", sa.Integer, nullable=False),
        sa.Column("arrests", sa.Integer, nullable=False),
        sa.Column("voluntary_interviews", sa.Integer, nullable=False),
        sa.Column("charges", sa.Integer, nullable=False),
        sa.Column("devices", sa.Text, nullable=False),
        sa.Column("children_safeguarded", sa.Integer, nullable=False),
        sa.Column("children_at_serious_risk", sa.Integer, nullable=False),
        sa.Column("safeguarding_basis", sa.Text, nullable=False),
        sa.Column("registered_sex_offender", sa.Boolean),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_package_outcomes"),
        sa.ForeignKeyConstraint(
            ["package_id"], ["packages.id"], name="fk_package_outcomes_package_id_packages"
        ),
    )
    op.create_index("ix_package_outcomes_package_id", "package_outcomes", ["package_id"])
    op.create_table(
        "package_events",
        sa.Column("id", _BIG_ID, autoincrement=True),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("package_id", _BIG_ID),
        sa.Column("detail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_package_events"),
        sa.ForeignKeyConstraint(
            ["package_id"], ["packages.id"], name="fk_package_events_package_id_packages"
        ),
    )
    op.create_index("ix_package_events_package_id", "package_events", ["package_id"])
    dialect = op.get_bind().dialect.name
    guards = {"sqlite": _SQLITE_GUARDS, "postgresql": _POSTGRES_GUARDS}.get(dialect, ())
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("package_events", "package_outcomes", "package_versions"):
            op.execute(f"DROP TABLE {table}")
        op.execute("DROP FUNCTION package_append_only()")
        op.execute("DROP FUNCTION package_version_fixed()")
    else:
        op.drop_table("package_events")
        op.drop_table("package_outcomes")
        op.drop_table("package_versions")
    op.drop_table("packages")
