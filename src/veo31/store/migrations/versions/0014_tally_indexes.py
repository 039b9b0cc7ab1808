"""Indexes that answer a batch's counts without reading its products' or generations' rows.

A batch's status read counts its generations by status with their costs: with these covering indexes SQLite walks
two small indexes instead of ten thousand wide generation rows (docs/performance.md has the figures).

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_generations_tally", "generations", ["id", "status", "cost_usd", "cost_estimate_usd"])
    op.create_index("ix_batch_items_tally", "batch_items", ["batch_id", "generation_id", "error"])


def downgrade() -> None:
    op.drop_index("ix_batch_items_tally", "batch_items")
    op.drop_index("ix_generations_tally", "generations")
