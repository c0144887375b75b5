"""desk accounts and class sets per school (filled by the per-school desk slice)

Created empty so that three parallel slices of issue 21 share one linear chain of revisions;
each slice fills its own.

Revision ID: 0022_school_staff
Revises: 0021_server_state
"""

revision = "0022_school_staff"
down_revision = "0021_server_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
