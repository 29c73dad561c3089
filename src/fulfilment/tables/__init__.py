"""The database tables, declared once in SQLAlchemy Core metadata, one module per part of
the service; importing the package declares them all (migrations compare against it)."""

from .base import Id, metadata
from .customer_data import (
    SEARCH_INDEX,
    audit_events,
    customer_search,
    declared,
    fulfilment_customers,
)
from .deliveries import hook_attempts, hook_deliveries, hook_events, hooks, mail_outbox
from .people import (
    customer_recovery_codes,
    one_time_tokens,
    passkey_challenges,
    passkeys,
    password_requests,
    shown_once,
    staff_recovery_codes,
    staff_users,
)
from .reference_data import shipping_provider_profiles, shipping_providers, templates, warehouses
from .tenancy import account_events, accounts, api_keys, change_counters

__all__ = [
    "SEARCH_INDEX",
    "Id",
    "account_events",
    "accounts",
    "api_keys",
    "audit_events",
    "change_counters",
    "customer_recovery_codes",
    "customer_search",
    "declared",
    "fulfilment_customers",
    "hook_attempts",
    "hook_deliveries",
    "hook_events",
    "hooks",
    "mail_outbox",
    "metadata",
    "one_time_tokens",
    "passkey_challenges",
    "passkeys",
    "password_requests",
    "shipping_provider_profiles",
    "shipping_providers",
    "shown_once",
    "staff_recovery_codes",
    "staff_users",
    "templates",
    "warehouses",
]
