"""The reference data customers point to: warehouses, templates, shipping providers and
their profiles."""

from __future__ import annotations

import sqlalchemy as sa

from .base import Id, account_column, metadata, primary_id

warehouses = sa.Table(
    "warehouses",
    metadata,
    primary_id("idwarehouse"),
    account_column(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("accept_orders", sa.Boolean(), nullable=False),
    sa.Column("counts_for_general_stock", sa.Boolean(), nullable=False),
    sa.Column("priority", sa.Integer(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Index("ix_warehouses_account", "account_id", "idwarehouse"),
    sqlite_autoincrement=True,
)

templates = sa.Table(
    "templates",
    metadata,
    primary_id("idtemplate"),
    account_column(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("is_default", sa.Boolean(), nullable=False),
    sa.Index("ix_templates_account", "account_id", "idtemplate"),
    sqlite_autoincrement=True,
)

shipping_providers = sa.Table(
    "shipping_providers",
    metadata,
    primary_id("idshippingprovider"),
    account_column(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("provider", sa.String(100), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Index("ix_shipping_providers_account", "account_id", "idshippingprovider"),
    sqlite_autoincrement=True,
)

shipping_provider_profiles = sa.Table(
    "shipping_provider_profiles",
    metadata,
    primary_id("idshippingprovider_profile"),
    sa.Column(
        "idshippingprovider",
        Id,
        sa.ForeignKey("shipping_providers.idshippingprovider", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    account_column(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Index("ix_shipping_profiles_account", "account_id", "idshippingprovider_profile"),
    sqlite_autoincrement=True,
)
