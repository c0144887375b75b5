"""lessons and resume positions: teachers' playlists and where they stopped, as tables

They were JSON files beside the database (<data dir>/media/lessons.json, resume.json), outside
transactions, migrations and backups; media/lessons.py imports those files once on first use.

Revision ID: 0009_lessons
Revises: 0008_tombstones
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_lessons"
down_revision = "0008_tombstones"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lessons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("teacher", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("media_ids", sa.JSON(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lessons"),
        sa.UniqueConstraint("teacher", "name", name="uq_lessons_teacher_name"),
    )
    op.create_table(
        "resume_positions",
        sa.Column("teacher", sa.String(64), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Float(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["media_id"], ["media_items.id"], ondelete="CASCADE",
                                name="fk_resume_positions_media_id_media_items"),
        sa.PrimaryKeyConstraint("teacher", "media_id", name="pk_resume_positions"),
    )


def downgrade() -> None:
    op.drop_table("resume_positions")
    op.drop_table("lessons")
