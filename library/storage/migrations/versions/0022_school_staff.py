"""desk accounts and class sets per school

``desk_accounts.sigla``: the school a desk account works for (its librarian's home school, as a
Koha librarian's home branch); NULL = every school (the city's administrator). Every existing
account stays NULL, so a single school changes nothing.

``class_sets.sigla``: the school whose class a set is (NULL = the default school): «5А» of school
A and «5А» of school B are two sets. The unique key of a set row becomes (school_year,
class_name, record_id, the school) — an expression index over ``coalesce(sigla, '')`` so that
two NULL rows still clash on both SQLite and PostgreSQL.

Revision ID: 0022_school_staff
Revises: 0021_server_state
"""
import sqlalchemy as sa
from alembic import op

revision = "0022_school_staff"
down_revision = "0021_server_state"
branch_labels = None
depends_on = None

KEY = ["school_year", "class_name", "record_id"]


def upgrade() -> None:
    with op.batch_alter_table("desk_accounts") as t:
        t.add_column(sa.Column("sigla", sa.String(32), nullable=True))
    with op.batch_alter_table("class_sets") as t:
        t.add_column(sa.Column("sigla", sa.String(32), nullable=True))
        t.drop_constraint("uq_class_sets", type_="unique")
    op.create_index("uq_class_sets_school", "class_sets", [*KEY, sa.text("coalesce(sigla, '')")],
                    unique=True)


def downgrade() -> None:
    op.execute("DELETE FROM class_sets WHERE sigla IS NOT NULL AND id NOT IN "
               "(SELECT MIN(id) FROM class_sets GROUP BY school_year, class_name, record_id)")
    op.drop_index("uq_class_sets_school", table_name="class_sets")
    with op.batch_alter_table("class_sets") as t:
        t.create_unique_constraint("uq_class_sets", KEY)
        t.drop_column("sigla")
    with op.batch_alter_table("desk_accounts") as t:
        t.drop_column("sigla")
