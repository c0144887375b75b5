"""the textbook fund: textbook titles and the classes' sets

``textbook_titles``: what makes a catalogue record a school textbook — its subject, the grades
it serves, its series (УМК) and, when known, its number in the federal list of textbooks.
``class_sets``: which textbooks a class uses in a school year (the September issue lends one
copy of each to every pupil of the class, due at the end of the school year).
``fpu_entries``: the federal list of textbooks as last imported (library.textbooks.titles), to
tell which of its textbooks the catalogue lacks.

Revision ID: 0014_textbooks
Revises: 0013_desk_imports
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_textbooks"
down_revision = "0013_desk_imports"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "textbook_titles",
        sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("subject", sa.String(100), nullable=False, server_default=""),
        sa.Column("grade_from", sa.Integer, nullable=True),
        sa.Column("grade_to", sa.Integer, nullable=True),
        sa.Column("series", sa.String(255), nullable=True),
        sa.Column("fpu_number", sa.String(32), nullable=True),
        sa.Column("source", sa.String(16), nullable=False, server_default="desk"),
        sa.Column("former_item_type", sa.String(16), nullable=True),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_textbook_titles_subject", "textbook_titles", ["subject"])
    op.create_table(
        "class_sets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("school_year", sa.Integer, nullable=False),
        sa.Column("class_name", sa.String(16), nullable=False),
        sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("school_year", "class_name", "record_id", name="uq_class_sets"),
    )
    op.create_index("ix_class_sets_year_class", "class_sets", ["school_year", "class_name"])
    op.create_table(
        "fpu_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False, server_default=""),
        sa.Column("grade_from", sa.Integer, nullable=True),
        sa.Column("grade_to", sa.Integer, nullable=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("authors", sa.String(500), nullable=False, server_default=""),
        sa.Column("publisher", sa.String(500), nullable=False, server_default=""),
        sa.Column("isbn", sa.String(200), nullable=False, server_default=""),
        sa.Column("imported_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_fpu_entries_number", "fpu_entries", ["number"])


def downgrade() -> None:
    op.drop_index("ix_fpu_entries_number", "fpu_entries")
    op.drop_table("fpu_entries")
    op.drop_index("ix_class_sets_year_class", "class_sets")
    op.drop_table("class_sets")
    op.drop_index("ix_textbook_titles_subject", "textbook_titles")
    op.drop_table("textbook_titles")
