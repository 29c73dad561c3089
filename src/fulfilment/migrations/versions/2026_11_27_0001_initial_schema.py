"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 12:01:48.723233
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("subdomain", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("customer_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("subdomain", name=op.f("uq_accounts_subdomain")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "shipping_providers",
        sa.Column(
            "idshippingprovider",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_shipping_providers_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("idshippingprovider", name=op.f("pk_shipping_providers")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("shipping_providers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_shipping_providers_account", ["account_id", "idshippingprovider"], unique=False
        )

    op.create_table(
        "templates",
        sa.Column(
            "idtemplate",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_templates_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("idtemplate", name=op.f("pk_templates")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.create_index("ix_templates_account", ["account_id", "idtemplate"], unique=False)

    op.create_table(
        "warehouses",
        sa.Column(
            "idwarehouse",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("accept_orders", sa.Boolean(), nullable=False),
        sa.Column("counts_for_general_stock", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_warehouses_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("idwarehouse", name=op.f("pk_warehouses")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("warehouses", schema=None) as batch_op:
        batch_op.create_index("ix_warehouses_account", ["account_id", "idwarehouse"], unique=False)

    op.create_table(
        "fulfilment_customers",
        sa.Column(
            "idfulfilment_customer",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("can_login", sa.Boolean(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=True),
        sa.Column("username_key", sa.String(length=100), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("emailaddress", sa.String(length=254), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column(
            "idtemplate", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "preferred_idwarehouse",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("allowed_shipping_profiles", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("credentials_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_fulfilment_customers_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["idtemplate"],
            ["templates.idtemplate"],
            name=op.f("fk_fulfilment_customers_idtemplate_templates"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["preferred_idwarehouse"],
            ["warehouses.idwarehouse"],
            name=op.f("fk_fulfilment_customers_preferred_idwarehouse_warehouses"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("idfulfilment_customer", name=op.f("pk_fulfilment_customers")),
        sa.UniqueConstraint(
            "account_id", "position", name=op.f("uq_fulfilment_customers_account_id_position")
        ),
        sa.UniqueConstraint(
            "account_id",
            "username_key",
            name=op.f("uq_fulfilment_customers_account_id_username_key"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "shipping_provider_profiles",
        sa.Column(
            "idshippingprovider_profile",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "idshippingprovider",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_shipping_provider_profiles_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["idshippingprovider"],
            ["shipping_providers.idshippingprovider"],
            name=op.f("fk_shipping_provider_profiles_idshippingprovider_shipping_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "idshippingprovider_profile", name=op.f("pk_shipping_provider_profiles")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("shipping_provider_profiles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_shipping_profiles_account",
            ["account_id", "idshippingprovider_profile"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_shipping_provider_profiles_idshippingprovider"),
            ["idshippingprovider"],
            unique=False,
        )

    op.create_table(
        "api_keys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "idfulfilment_customer",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_api_keys_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["idfulfilment_customer"],
            ["fulfilment_customers.idfulfilment_customer"],
            name=op.f("fk_api_keys_idfulfilment_customer_fulfilment_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index("ix_api_keys_account", ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_api_keys_account")

    op.drop_table("api_keys")
    with op.batch_alter_table("shipping_provider_profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipping_provider_profiles_idshippingprovider"))
        batch_op.drop_index("ix_shipping_profiles_account")

    op.drop_table("shipping_provider_profiles")
    op.drop_table("fulfilment_customers")
    with op.batch_alter_table("warehouses", schema=None) as batch_op:
        batch_op.drop_index("ix_warehouses_account")

    op.drop_table("warehouses")
    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.drop_index("ix_templates_account")

    op.drop_table("templates")
    with op.batch_alter_table("shipping_providers", schema=None) as batch_op:
        batch_op.drop_index("ix_shipping_providers_account")

    op.drop_table("shipping_providers")
    op.drop_table("accounts")
