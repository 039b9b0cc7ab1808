"""`prompt_writer` as text: it says which writer wrote the prompt and, after a fallback, why ("template (llm
failed: HTTP 500)"), longer than the 20 characters first given. SQLite never enforced that length; PostgreSQL
refused the update, and the generation stayed in `preparing`.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.alter_column("prompt_writer", type_=sa.Text, existing_type=sa.String(20), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.alter_column("prompt_writer", type_=sa.String(20), existing_type=sa.Text, existing_nullable=True)
