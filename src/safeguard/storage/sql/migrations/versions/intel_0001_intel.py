"""Intelligence store: subjects, referrals and keys, exhibits, merges, links, suppressions,
assessments, overrides and the append-only intelligence audit log.

Revision ID: intel_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "intel_0001"
down_revision = None
branch_labels = ("intel",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UTC = sa.DateTime(timezone=True)

_SQLITE_GUARDS = (
    "CREATE TRIGGER intel_audit_no_update BEFORE UPDATE ON intel_audit "
    "BEGIN SELECT RAISE(ABORT, 'intel_audit is append-only'); END",
    "CREATE TRIGGER intel_audit_no_delete BEFORE DELETE ON intel_audit "
    "BEGIN SELECT RAISE(ABORT, 'intel_audit is append-only'); END",
)
_POSTGRES_GUARDS = (
    "CREATE FUNCTION intel_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'intel_audit is append-only'; END $$",
    "CREATE TRIGGER intel_audit_no_change BEFORE UPDATE OR DELETE ON intel_audit "
    "FOR EACH ROW EXECUTE FUNCTION intel_audit_append_only()",
    "CREATE TRIGGER intel_audit_no_truncate BEFORE TRUNCATE ON intel_audit "
    "FOR EACH STATEMENT EXECUTE FUNCTION intel_audit_append_only()",
)


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"pk_{table}")


def _subject_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["intel_subjects.id"], name=f"fk_{table}_{column}_intel_subjects"
    )


def upgrade() -> None:
    op.create_table(
        "intel_subjects",
        sa.Column("id", _ID, autoincrement=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("merged_into", _ID),
        sa.Column("facts", sa.Text, nullable=False),
        _pk("intel_subjects"),
        _subject_fk("intel_subjects", "merged_into"),
    )
    op.create_table(
        "intel_referrals",
        sa.Column("id", _ID, autoincrement=True),
        sa.Column("content_key", sa.String(64), nullable=False),
        sa.Column("source", sa.String(30), nullable=False),
        sa.Column("external_id", sa.Text, nullable=False),
        sa.Column("received_at", _UTC, nullable=False),
        sa.Column("incident_at", _UTC),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        _pk("intel_referrals"),
        _subject_fk("intel_referrals", "subject_id"),
        sa.UniqueConstraint("content_key", name="uq_intel_referrals_content_key"),
    )
    op.create_index("ix_intel_referrals_subject_id", "intel_referrals", ["subject_id"])
    op.create_table(
        "intel_referral_keys",
        sa.Column("id", _ID, autoincrement=True),
        sa.Column("referral_id", _ID, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("observed_at", _UTC),
        sa.Column("port", sa.Integer),
        _pk("intel_referral_keys"),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["intel_referrals.id"],
            name="fk_intel_referral_keys_referral_id_intel_referrals",
        ),
    )
    op.create_index("ix_intel_referral_keys_referral_id", "intel_referral_keys", ["referral_id"])
    op.create_index("ix_intel_referral_keys_key", "intel_referral_keys", ["key"])
    op.create_table(
        "intel_exhibits",
        sa.Column("id", _ID, autoincrement=True),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("case_number", sa.String(200), nullable=False),
        sa.Column("exhibit_reference", sa.String(200), nullable=False),
        sa.Column("files_examined", sa.Integer, nullable=False),
        sa.Column("known_bad_files", sa.Integer, nullable=False),
        sa.Column("attached_at", _UTC, nullable=False),
        sa.Column("attached_by", sa.String(200), nullable=False),
        _pk("intel_exhibits"),
        _subject_fk("intel_exhibits", "subject_id"),
        sa.UniqueConstraint(
            "case_number", "exhibit_reference", name="uq_intel_exhibits_case_exhibit"
        ),
    )
    op.create_index("ix_intel_exhibits_subject_id", "intel_exhibits", ["subject_id"])
    op.create_table(
        "intel_merges",
        sa.Column("id", _ID, autoincrement=True),
        sa.Column("survivor_id", _ID, nullable=False),
        sa.Column("absorbed_id", _ID, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("moved_referrals", sa.Text, nullable=False),
        sa.Column("moved_exhibits", sa.Text, nullable=False),
        sa.Column("undone_by", sa.String(200)),
        sa.Column("undone_at", _UTC),
        sa.Column("undone_reason", sa.Text),
        _pk("intel_merges"),
        _subject_fk("intel_merges", "survivor_id"),
        _subject_fk("intel_merges", "absorbed_id"),
    )
    op.create_table(
        "intel_links",
        sa.Column("id", _ID, autoincrement=True),
        sa.Column("subject_a", _ID, nullable=False),
        sa.Column("subject_b", _ID, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("provenance", sa.Text, nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        _pk("intel_links"),
        _subject_fk("intel_links", "subject_a"),
        _subject_fk("intel_links", "subject_b"),
    )
    op.create_index("ix_intel_links_subject_a", "intel_links", ["subject_a"])
    op.create_index("ix_intel_links_subject_b", "intel_links", ["subject_b"])
    op.create_table(
        "intel_suppressions",
        sa.Column("id", _ID, autoincrement=True),
        sa.Column("subject_a", _ID, nullable=False),
        sa.Column("subject_b", _ID, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("lifted_by", sa.String(200)),
        sa.Column("lifted_at", _UTC),
        _pk("intel_suppressions"),
        _subject_fk("intel_suppressions", "subject_a"),
        _subject_fk("intel_suppressions", "subject_b"),
    )
    op.create_table(
        "intel_assessments",
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("band", sa.String(20), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("contributions", sa.Text, nullable=False),
        sa.Column("rules_version", sa.String(100), nullable=False),
        sa.Column("rules_digest", sa.String(64), nullable=False),
        sa.Column("computed_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name="pk_intel_assessments"),
        _subject_fk("intel_assessments", "subject_id"),
    )
    op.create_table(
        "intel_overrides",
        sa.Column("id", _ID, autoincrement=True),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("band", sa.String(20), nullable=False),
        sa.Column("computed_band", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("cleared_by", sa.String(200)),
        sa.Column("cleared_at", _UTC),
        _pk("intel_overrides"),
        _subject_fk("intel_overrides", "subject_id"),
    )
    op.create_index("ix_intel_overrides_subject_id", "intel_overrides", ["subject_id"])
    op.create_table(
        "intel_audit",
        sa.Column("id", _ID, autoincrement=True),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("subject_id", _ID),
        sa.Column("detail", sa.Text, nullable=False),
        _pk("intel_audit"),
    )
    op.create_index("ix_intel_audit_subject_id", "intel_audit", ["subject_id"])
    guards = _POSTGRES_GUARDS if op.get_bind().dialect.name == "postgresql" else _SQLITE_GUARDS
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE intel_audit")
        op.execute("DROP FUNCTION intel_audit_append_only()")
    else:
        op.drop_table("intel_audit")
    for table in (
        "intel_overrides",
        "intel_assessments",
        "intel_suppressions",
        "intel_links",
        "intel_merges",
        "intel_exhibits",
        "intel_referral_keys",
        "intel_referrals",
        "intel_subjects",
    ):
        op.drop_table(table)
