"""administration: API keys of inbound sources, the role matrix's versions, users' language, VICIdial user
and password age

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-07 16:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_keys',
                    sa.Column('id', sa.Integer(), sa.Identity(), primary_key=True),
                    sa.Column('source', sa.String(64), nullable=False),
                    sa.Column('key_sha256', sa.String(64), nullable=False, unique=True),
                    sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()),
                    sa.Column('created_by', sa.String(64), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
                    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_api_keys_source', 'api_keys', ['source', 'active'])
    op.create_table('role_matrix',
                    sa.Column('version', sa.Integer(), primary_key=True),
                    sa.Column('roles', postgresql.JSONB(), nullable=False),
                    sa.Column('created_by', sa.String(64), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()))
    op.add_column('users', sa.Column('language', sa.String(8), nullable=True))
    op.add_column('users', sa.Column('vicidial_user', sa.String(32), nullable=True))
    op.add_column('users', sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=False,
                                     server_default=sa.func.now()))


def downgrade() -> None:
    op.drop_column('users', 'password_changed_at')
    op.drop_column('users', 'vicidial_user')
    op.drop_column('users', 'language')
    op.drop_table('role_matrix')
    op.drop_index('ix_api_keys_source', table_name='api_keys')
    op.drop_table('api_keys')
