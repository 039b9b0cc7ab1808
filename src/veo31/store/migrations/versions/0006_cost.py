"""What a generation costs: the estimate made before submitting, and the cost reported (or known) after.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("cost_estimate_usd", sa.Float))
        batch.add_column(sa.Column("cost_usd", sa.Float))
        batch.add_column(sa.Column("cost_basis", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.drop_column("cost_basis")
        batch.drop_column("cost_usd")
        batch.drop_column("cost_estimate_usd")
