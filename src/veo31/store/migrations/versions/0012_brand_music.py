"""A brand kit's music: a sound file mixed under the clip's own sound in the kit's deliverables.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("brand_kits") as batch:
        batch.add_column(sa.Column("music_key", sa.String(300)))


def downgrade() -> None:
    with op.batch_alter_table("brand_kits") as batch:
        batch.drop_column("music_key")
