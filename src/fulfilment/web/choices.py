"""What a customer's reference fields (`Field.refers_to` in fields.py) can point at, by
name: the account's warehouses, templates and shipping profiles, for the pages of both
sites to show and offer them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import sqlalchemy as sa

from ..db import Connection, Query
from ..tables import shipping_provider_profiles, shipping_providers, templates, warehouses

_p = sa.bindparam


class WarehouseChoice(NamedTuple):
    idwarehouse: int
    name: str


class TemplateChoice(NamedTuple):
    idtemplate: int
    name: str
    is_default: bool


class ProfileChoice(NamedTuple):
    idshippingprovider_profile: int
    provider_name: str
    name: str


WAREHOUSES = Query(
    sa.select(warehouses.c.idwarehouse, warehouses.c.name)
    .where(warehouses.c.account_id == _p("account_id"))
    .order_by(warehouses.c.idwarehouse),
    WarehouseChoice,
)
TEMPLATES = Query(
    sa.select(templates.c.idtemplate, templates.c.name, templates.c.is_default)
    .where(templates.c.account_id == _p("account_id"))
    .order_by(templates.c.idtemplate),
    TemplateChoice,
)
PROFILES = Query(
    sa.select(
        shipping_provider_profiles.c.idshippingprovider_profile,
        shipping_providers.c.name.label("provider_name"),
        shipping_provider_profiles.c.name,
    )
    .join(
        shipping_providers,
        shipping_providers.c.idshippingprovider == shipping_provider_profiles.c.idshippingprovider,
    )
    .where(shipping_provider_profiles.c.account_id == _p("account_id"))
    .order_by(shipping_provider_profiles.c.idshippingprovider_profile),
    ProfileChoice,
)


@dataclass(frozen=True, slots=True)
class Choices:
    """Each kind of object a reference names (`refers_to`): its objects as (id, name), in
    id order, and the name of the account's default one, where it has one."""

    named: dict[str, list[tuple[int, str]]]
    defaults: dict[str, str] = field(default_factory=dict)

    def options(self, refers_to: str) -> list[tuple[int, str]]:
        return self.named.get(refers_to, [])

    def ids(self, refers_to: str) -> set[int]:
        return {id_ for id_, _ in self.options(refers_to)}

    def name(self, refers_to: str, id_: int) -> str | None:
        return next((name for known, name in self.options(refers_to) if known == id_), None)

    def names(self, refers_to: str, ids: list[int]) -> list[str]:
        """The names of `ids` in their order; ids the account no longer has are left out."""
        names = dict(self.options(refers_to))
        return [names[id_] for id_ in ids if id_ in names]

    def default(self, refers_to: str | None) -> str | None:
        return self.defaults.get(refers_to or "")


async def read_choices(connection: Connection, account_id: int) -> Choices:
    values = {"account_id": account_id}
    template_rows = await connection.all(TEMPLATES, values)
    default = next((row.name for row in template_rows if row.is_default), None)
    return Choices(
        named={
            "warehouse": [
                (row.idwarehouse, row.name) for row in await connection.all(WAREHOUSES, values)
            ],
            "template": [(row.idtemplate, row.name) for row in template_rows],
            "shipping profile": [
                (row.idshippingprovider_profile, f"{row.provider_name} · {row.name}")
                for row in await connection.all(PROFILES, values)
            ],
        },
        defaults={"template": default} if default is not None else {},
    )
