"""schools as first-class: the schools table; the school a terminal (and its enrolment code)
belongs to

``schools``: one row per school of the service (sigla unique, name, address, created). The
default school (``[school] sigla`` and name) is added on first use by library/schools.py, so a
single-school install needs nothing. ``terminals.sigla`` / ``enrol_codes.sigla``: the school a
terminal was enrolled for (NULL: the default school).

Revision ID: 0019_schools
Revises: 0018_irbis_outbox
"""
import sqlalchemy as sa
from alembic import op

revision = "0019_schools"
down_revision = "0018_irbis_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sigla", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(500), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_schools"),
        sa.UniqueConstraint("sigla", name="uq_schools_sigla"),
    )
    with op.batch_alter_table("terminals") as t:
        t.add_column(sa.Column("sigla", sa.String(32), nullable=True))
    with op.batch_alter_table("enrol_codes") as t:
        t.add_column(sa.Column("sigla", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("enrol_codes") as t:
        t.drop_column("sigla")
    with op.batch_alter_table("terminals") as t:
        t.drop_column("sigla")
    op.drop_table("schools")
