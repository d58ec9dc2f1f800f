"""crm search indexes: partial phone/e-mail match and account number prefix

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 09:00:00.000000
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Partial phone ("...1234567") and e-mail ("shevchenko@") search: trigram GIN over the values
    # people type in part; messenger ids are only ever matched whole, so they stay out of it.
    op.create_index('ix_contact_points_value_trgm', 'contact_points', ['value'], unique=False,
                    postgresql_using='gin', postgresql_ops={'value': 'gin_trgm_ops'},
                    postgresql_where="kind IN ('phone', 'email')")
    # Account number prefix search (LIKE '1234%') whatever the database collation.
    op.create_index('ix_accounts_account_no_pattern', 'accounts', ['account_no'], unique=False,
                    postgresql_ops={'account_no': 'varchar_pattern_ops'})


def downgrade() -> None:
    op.drop_index('ix_accounts_account_no_pattern', table_name='accounts')
    op.drop_index('ix_contact_points_value_trgm', table_name='contact_points')
