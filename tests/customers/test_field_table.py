"""A property test of the validation rules: hypothesis writes bodies field by field, valid
and invalid, and the service's answer must agree with an oracle written from the rules in
README.md ("The API", Validation) and the structs in customers/schemas.py: 200 with the
normalised values stored, or 400 naming a field whose rule the body breaks, with nothing
stored.

Generated strings hold no NUL and no lone surrogate: the table is silent on those, and
tests/customers/test_rules.py covers them. "White space" is what str.strip removes."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from fulfilment.db import Database
from fulfilment.fields import is_unshowable
from fulfilment.passwords import verify_password_sync
from fulfilment.tables import fulfilment_customers
from tests.factories import CUSTOMERS, Tenant, make_tenant, stored_customers

EXAMPLES = 120


@dataclass(frozen=True)
class Ok:
    """The table allows the value; `stored` is what the service must keep and answer."""

    stored: Any


BAD = None  # the table refuses the value
Verdict = Ok | None
Sent = tuple[Any, Verdict]  # a JSON value and what the table says of it

CHARACTERS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
SPACE = st.text(st.sampled_from(" \t\n\r\u00a0\u2003\u3000"), max_size=3)
UNICODE = st.text(CHARACTERS, max_size=12)


def of_length(low: int, high: int, alphabet: str = "aßÉ字 ") -> st.SearchStrategy[str]:
    """Strings around a length limit, where off-by-one mistakes live."""
    return st.builds(
        lambda n, text: (text * n)[:n],
        st.integers(low, high),
        st.text(st.sampled_from(alphabet), min_size=1, max_size=3),
    )


def mostly(
    valid: st.SearchStrategy[Sent], *invalid: st.SearchStrategy[Sent]
) -> st.SearchStrategy[Sent]:
    """Valid values seven times in eight, so that whole bodies are often valid too."""
    return st.sampled_from(range(8)).flatmap(lambda n: st.one_of(*invalid) if n == 7 else valid)


def wrong_types(*allowed: type) -> st.SearchStrategy[Sent]:
    """JSON values of the types the field does not take (a bool is not an integer)."""
    every = {
        type(None): st.none(),
        bool: st.booleans(),
        int: st.integers(-(2**70), 2**70),
        float: st.floats(allow_nan=False, allow_infinity=False),
        str: UNICODE,
        list: st.lists(st.integers(1, 5), max_size=2),
        dict: st.dictionaries(st.sampled_from(["a", "id"]), st.integers(), max_size=1),
    }
    return st.one_of(*(s for t, s in every.items() if t not in allowed)).map(lambda v: (v, BAD))


def text_rule(text: str, low: int, high: int, strip: bool) -> Verdict:
    if strip:
        trimmed = text.strip()
        return Ok(trimmed) if low <= len(trimmed) <= high else BAD
    if text != text.strip():
        return BAD
    return Ok(text) if low <= len(text) <= high else BAD


def same_username(username: str) -> str:
    """What usernames are compared by (the README): NFKC and case folding."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def username_rule(text: str) -> Verdict:
    if any(is_unshowable(character) for character in text):
        return BAD
    if len(same_username(text)) > 300:
        return BAD
    return text_rule(text, 1, 100, strip=False)


def padded(core: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`core`, now and then with white space around it."""
    return core | st.builds(lambda a, b, c: a + b + c, SPACE, core, SPACE)


def names() -> st.SearchStrategy[Sent]:
    raw = padded(st.text(CHARACTERS, min_size=1, max_size=12) | of_length(250, 258))
    return mostly(raw.map(lambda t: (t, text_rule(t, 1, 255, strip=True))), wrong_types(str))


def usernames() -> st.SearchStrategy[Sent]:
    taken = st.sampled_from(["Taken", "taken", "TAKEN", "Foreign", "fresh"])
    plain = st.text(CHARACTERS, min_size=1, max_size=12)
    # Letters that case folding lengthens: "ß" -> "ss", "ﬃ" -> "ffi", "İ" -> "i̇".
    folding = of_length(98, 102, alphabet="ßﬃİ")
    raw = plain | taken | folding | padded(plain | of_length(98, 102))
    return mostly(
        st.none().map(lambda v: (v, Ok(None))) | raw.map(lambda t: (t, username_rule(t))),
        wrong_types(str, type(None)),
    )


def passwords() -> st.SearchStrategy[Sent]:
    raw = st.text(CHARACTERS, min_size=8, max_size=16) | of_length(6, 10) | of_length(1022, 1026)
    return mostly(raw.map(lambda t: (t, Ok(t) if 8 <= len(t) <= 1024 else BAD)), wrong_types(str))


def emailaddresses() -> st.SearchStrategy[Sent]:
    part = st.text(st.sampled_from("abcxyz019._+-"), min_size=1, max_size=8)
    label = st.text(st.sampled_from("abcxyz019-"), min_size=1, max_size=8)
    tld = st.text(st.sampled_from("abcdefz"), min_size=2, max_size=4)
    valid = st.builds(lambda p, d, t: f"{p}@{d}.{t}", part, label, tld).map(lambda a: (a, Ok(a)))
    # Plainly not an address: no @, two @, nothing before or after it, no dot after it,
    # white space, nothing after the last dot, a final newline, invisible characters.
    invalid = st.sampled_from(
        ["", "ops", "ops@", "@acme.example", "ops@acme", "ops@@acme.example", "o ps@acme.nl",
         "ops@acme.nl ", "ops@acme.", "ops@.nl", "ops@acme@example.nl", "ops@acme.nl\n",
         "o\x1bps@acme.nl", "ops\u200b@acme.nl"]
    )  # fmt: skip
    return mostly(
        st.none().map(lambda v: (v, Ok(None))) | valid,
        invalid.map(lambda a: (a, BAD)),
        wrong_types(str, type(None)),
    )


def languages() -> st.SearchStrategy[Sent]:
    return (
        st.sampled_from(["nl", "en"]).map(lambda v: (v, Ok(v)))
        | st.sampled_from(["NL", "En", "de", "", " nl", "nl "]).map(lambda v: (v, BAD))
        | wrong_types(str)
    )


def references(own: list[int], foreign: list[int]) -> st.SearchStrategy[Sent]:
    """An id that must name an object of the caller's own account, or null."""
    return mostly(
        st.none().map(lambda v: (v, Ok(None))) | st.sampled_from(own).map(lambda v: (v, Ok(v))),
        st.sampled_from([*foreign, 0, -1, 987_654, 2**63]).map(lambda v: (v, BAD)),
        wrong_types(int, type(None)),
    )


def profile_lists(own: list[int], foreign: list[int]) -> st.SearchStrategy[Sent]:
    item = st.sampled_from(range(12)).flatmap(
        lambda n: (
            st.sampled_from([*foreign, 0, -3, 987_654, "1", 1.5, True, None]).map(
                lambda v: (v, False)
            )
            if n == 0
            else st.sampled_from(own).map(lambda v: (v, True))
        )
    )

    def judge(items: list[tuple[Any, bool]]) -> Sent:
        values = [v for v, _ in items]
        if all(ok for _, ok in items):
            return values, Ok(list(dict.fromkeys(values)))
        return values, BAD

    return mostly(st.lists(item, max_size=6).map(judge), wrong_types(list))


@dataclass
class Before:
    """What the oracle needs of the stored state."""

    customer: dict[str, Any] | None  # the customer a PUT changes (None for a POST)
    has_password: bool
    usernames: dict[str, int]  # same_username(username) -> its customer, in this account


def oracle(body: dict[str, Sent], before: Before) -> tuple[dict[str, Any] | None, set[str]]:
    """(the customer the table expects, None when refused; the fields a refusal may name)."""
    creating = before.customer is None
    broken = {field for field, (_, verdict) in body.items() if verdict is BAD}
    if creating and "name" not in body:
        broken.add("name")
    result: dict[str, Any] = (
        {"can_login": False, "username": None, "emailaddress": None, "language": "nl",
         "idtemplate": None, "last_login_at": None, "allowed_shipping_profiles": [],
         "preferred_idwarehouse": None}
        if creating else dict(before.customer or {})
    )  # fmt: skip
    for field, (_, verdict) in body.items():
        if verdict is not BAD and field != "password":
            result[field] = verdict.stored
    has_password = before.has_password or ("password" in body and body["password"][1] is not BAD)
    if result["can_login"] is True:
        if result["username"] is None:
            broken.add("username")
        if not has_password:
            broken.add("password")
    username = result["username"]
    if "username" in body and username is not None:
        owner = before.usernames.get(same_username(username))
        if owner is not None and (creating or owner != result["idfulfilment_customer"]):
            broken.add("username")
    return (None if broken else result), broken


def read_before(database: Database, tenant: Tenant, customer: dict[str, Any] | None) -> Before:
    table = fulfilment_customers
    with database.engine.connect() as connection:
        rows = connection.execute(
            sa.select(table.c.idfulfilment_customer, table.c.username, table.c.password_hash)
            .where(table.c.account_id == tenant.account.id)
        ).all()  # fmt: skip
    usernames = {same_username(row[1]): row[0] for row in rows if row[1] is not None}
    has_password = customer is not None and any(
        row[0] == customer["idfulfilment_customer"] and row[2] is not None for row in rows
    )
    return Before(customer, has_password, usernames)


def names_one_of(message: str, fields: set[str]) -> bool:
    return any(re.search(rf"\b{field}\b", message) for field in fields)


def bodies(tenant: Tenant, other: Tenant) -> st.SearchStrategy[dict[str, Sent]]:
    fields = {
        "name": names(),
        "can_login": mostly(st.booleans().map(lambda v: (v, Ok(v))), wrong_types(bool)),
        "username": usernames(),
        "password": passwords(),
        "emailaddress": emailaddresses(),
        "language": languages(),
        "idtemplate": references([tenant.template], [other.template]),
        "allowed_shipping_profiles": profile_lists(tenant.profiles, other.profiles),
        "preferred_idwarehouse": references([tenant.warehouse], [other.warehouse]),
    }
    ignored = st.fixed_dictionaries(
        {},
        optional={
            "idfulfilment_customer": st.integers() | st.text(max_size=3),
            "last_login_at": st.text(max_size=5) | st.none(),
            "unknown_field": st.none() | st.booleans() | UNICODE,
        },
    ).map(lambda d: {k: (v, Ok(None)) for k, v in d.items()})
    name = fields.pop("name")
    # A create needs a name: leave it out only now and then.
    named = mostly(name.map(lambda sent: {"name": sent}), st.just({}))  # type: ignore[arg-type]
    return st.builds(
        lambda a, b, c: {**a, **b, **c}, named, st.fixed_dictionaries({}, optional=fields), ignored
    )


IGNORED = {"idfulfilment_customer", "last_login_at", "unknown_field"}


def check(
    tenant: Tenant, database: Database, body: dict[str, Sent], target: dict[str, Any] | None
) -> None:
    before = read_before(database, tenant, target)
    expected, broken = oracle({k: v for k, v in body.items() if k not in IGNORED}, before)
    rows_before = stored_customers(database)
    sent = {field: value for field, (value, _) in body.items()}

    if target is None:
        answer = tenant.post(CUSTOMERS, sent)
    else:
        answer = tenant.put(f"{CUSTOMERS}/{target['idfulfilment_customer']}", sent)

    event("refused" if expected is None else "accepted")
    for field in sorted(broken):
        event(f"broken {field}")
    if expected is None:
        assert answer.status_code == 400, (broken, answer.text)
        error = answer.json()
        assert error["error_code"] == 5, error
        assert names_one_of(error["error_message"], broken), (broken, error)
        assert stored_customers(database) == rows_before
        return
    assert answer.status_code == 200, (sent, answer.text[:300])
    customer = answer.json()
    expected["idfulfilment_customer"] = customer["idfulfilment_customer"]
    assert customer == expected
    path = f"{CUSTOMERS}/{customer['idfulfilment_customer']}"
    assert tenant.get(path).json() == expected
    if "password" in body:
        table = fulfilment_customers
        with database.engine.connect() as connection:
            stored_hash = connection.execute(
                sa.select(table.c.password_hash).where(
                    table.c.idfulfilment_customer == customer["idfulfilment_customer"]
                )
            ).scalar_one()
        assert verify_password_sync(stored_hash, body["password"][0])


def starting_points(tenant: Tenant) -> st.SearchStrategy[dict[str, Any]]:
    """What an update starts from: a bare customer, or one with every field set."""
    full = {
        "name": "Start", "can_login": True, "username": "start", "password": "start password",
        "emailaddress": "start@example.nl", "language": "en", "idtemplate": tenant.template,
        "allowed_shipping_profiles": tenant.profiles[::-1],
        "preferred_idwarehouse": tenant.warehouse,
    }  # fmt: skip
    return st.sampled_from([{"name": "Start"}, full])


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_service_agrees_with_the_field_table(
    client: TestClient, other_tenant: Tenant, database: Database, data: st.DataObject
) -> None:
    # A new account per example, so that what one example stores cannot change the next.
    tenant = make_tenant(database, client, f"t{uuid.uuid4().hex[:12]}")
    tenant.create_customer(name="Taken", username="Taken")
    if not other_tenant.get(CUSTOMERS).json():
        other_tenant.create_customer(name="Foreign", username="Foreign")
    body = data.draw(bodies(tenant, other_tenant), label="body")
    target = None
    if data.draw(st.booleans(), label="update"):
        target = tenant.create_customer(**data.draw(starting_points(tenant), label="start"))
    check(tenant, database, body, target)
