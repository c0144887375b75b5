"""circulation rule overrides and media per school (filled by that slice)

Created empty so that three parallel slices of issue 21 share one linear chain of revisions;
each slice fills its own.

Revision ID: 0024_school_rules
Revises: 0023_school_requests
"""

revision = "0024_school_rules"
down_revision = "0023_school_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
