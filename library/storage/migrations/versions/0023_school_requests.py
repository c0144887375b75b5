"""holds with a pickup school and inter-school requests (filled by that slice)

Created empty so that three parallel slices of issue 21 share one linear chain of revisions;
each slice fills its own.

Revision ID: 0023_school_requests
Revises: 0022_school_staff
"""

revision = "0023_school_requests"
down_revision = "0022_school_staff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
