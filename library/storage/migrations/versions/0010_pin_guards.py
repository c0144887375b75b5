"""PIN guess limits and offline trust in the database: per-card PIN guards, the cards each
terminal probed, the cards each terminal identified online

They were a per-process, per-terminal sliding window in memory (server/security.py
GuessLimiter): reset by a restart, blind to the same card on another terminal, and checked
before the slow hash but counted after it, so a parallel burst evaluated every guess.

Revision ID: 0010_pin_guards
Revises: 0009_lessons
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_pin_guards"
down_revision = "0009_lessons"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pin_guards",
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("locked_until", TS, nullable=True),
        sa.ForeignKeyConstraint(["reader_id"], ["readers.id"], ondelete="CASCADE",
                                name="fk_pin_guards_reader_id_readers"),
        sa.PrimaryKeyConstraint("reader_id", name="pk_pin_guards"),
    )
    op.create_table(
        "terminal_probes",
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("card_hash", sa.String(64), nullable=False),
        sa.Column("probed_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["terminal_id"], ["terminals.id"], ondelete="CASCADE",
                                name="fk_terminal_probes_terminal_id_terminals"),
        sa.PrimaryKeyConstraint("terminal_id", "card_hash", name="pk_terminal_probes"),
    )
    op.create_table(
        "terminal_cards",
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["terminal_id"], ["terminals.id"], ondelete="CASCADE",
                                name="fk_terminal_cards_terminal_id_terminals"),
        sa.ForeignKeyConstraint(["reader_id"], ["readers.id"], ondelete="CASCADE",
                                name="fk_terminal_cards_reader_id_readers"),
        sa.PrimaryKeyConstraint("terminal_id", "reader_id", name="pk_terminal_cards"),
    )


def downgrade() -> None:
    op.drop_table("terminal_cards")
    op.drop_table("terminal_probes")
    op.drop_table("pin_guards")
