"""The administrators' pages of the back office: API keys, staff users and the account's
audit log (the account's settings are on the settings page, in routes.py). Every one of
them answers 403 to a staff user who is no administrator."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from ..accounts import audit
from ..errors import InvalidInput, NotFound
from ..fields import LANGUAGES, USERNAME_MAX
from ..staff.service import LastAdmin, NewUser
from ..web.errors import FormExpired
from ..web.i18n import N_
from ..web.pages import read_form
from ..web.sessions import csrf_matches
from . import confirm, errors, manage, once, service
from .web import Visit, admin_page

NOTICES = {
    "key-revoked": N_("The API key has been revoked."),
    "key-shown": N_("A new key is shown only once, and this one has been shown."),
    "invited": N_("The staff user has been invited: a link to choose a password is on its way."),
    "deactivated": N_("The staff user has been deactivated."),
    "reactivated": N_("The staff user can log in again."),
    "admin-changed": N_("The staff user's role has been changed."),
    "second-factor-reset": N_(
        "The second factor has been reset: the staff user sets it up again at the next login."
    ),
}
KEY_NAME_MAX = 255


def _notice(visit: Visit) -> str | None:
    return NOTICES.get(visit.request.query_params.get("notice", ""))


def positive_number(raw: str | None) -> int | None:
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 18 and int(raw) > 0:
        return int(raw)
    return None


def page_offset(raw: str | None, size: int) -> int:
    number = positive_number(raw)
    return number - number % size if number is not None else 0


async def posted_form(visit: Visit) -> dict[str, str]:
    """The POSTed form, when its token is this session's."""
    form = await read_form(visit.request)
    if not csrf_matches(visit.session, form.get("csrf_token")):
        raise FormExpired()
    return form


# -- API keys -----------------------------------------------------------------------------


async def _keys_page(visit: Visit, status: int = 200, **context: object) -> Response:
    offset = page_offset(visit.request.query_params.get("offset"), manage.KEY_PAGE_SIZE)
    found = await manage.keys(visit.database, visit.account, offset)
    context.setdefault("form", {"name": "", "customer": ""})
    context.setdefault("form_errors", {})
    return visit.render(
        "keys.html",
        status,
        keys=found,
        offset=offset,
        page_size=manage.KEY_PAGE_SIZE,
        more=len(found) == manage.KEY_PAGE_SIZE,
        notice=_notice(visit),
        **context,
    )


@admin_page(admins_only=True)
async def keys(visit: Visit) -> Response:
    """The account's API keys, and the form for a new one."""
    return await _keys_page(visit)


@admin_page(admins_only=True)
async def new_key(visit: Visit) -> Response:
    """Create a key (optionally for one customer): shown once, with a line of curl."""
    assert visit.user is not None
    if visit.request.method == "GET":
        return visit.redirect("keys")
    form = await posted_form(visit)
    name = form.get("name", "").strip()
    raw_customer = form.get("customer", "").strip()
    problems: dict[str, str] = {}
    if not name or len(name) > KEY_NAME_MAX or "\x00" in name:
        problems["name"] = N_("Enter a name of at most 255 characters.")
    customer = positive_number(raw_customer)
    if raw_customer and customer is None:
        problems["customer"] = N_("Enter the number of one of the account's customers.")
    if not problems:
        try:
            key_id, key = await manage.create_key(
                visit.database, visit.account, visit.user, name, customer
            )
        except InvalidInput:
            problems["customer"] = N_("Enter the number of one of the account's customers.")
        else:
            shown = {"key": key, "name": name}
            token = await once.keep(visit.database, visit.account, visit.user, "key", key_id, shown)
            return visit.redirect(f"keys/{key_id}/created?once={token}")
    values = {"name": form.get("name", ""), "customer": raw_customer}
    return await _keys_page(visit, 400, form=values, form_errors=problems)


@admin_page(admins_only=True)
async def created_key(visit: Visit) -> Response:
    """The new key, once, with a line of curl; a reload finds it gone."""
    assert visit.user is not None
    key_id = positive_number(visit.request.path_params["key"]) or 0
    token = visit.request.query_params.get("once")
    shown = await once.take(visit.database, visit.account, visit.user, "key", key_id, token)
    if shown is None:
        return visit.redirect("keys?notice=key-shown")
    api = str(visit.request.base_url).rstrip("/") + "/api/v1/fulfilment/customers"
    key = shown["key"]
    return visit.render("key.html", key=key, name=shown["name"], curl=f"curl -u {key}: {api}")


@admin_page(admins_only=True)
async def revoke_key(visit: Visit) -> Response:
    """Revoke a key: it answers 401 from now on."""
    assert visit.user is not None
    key_id = positive_number(visit.request.path_params["key"])
    try:
        if key_id is None:
            raise NotFound("no such key")
        if visit.request.method == "GET":
            key = await manage.listed_key(visit.database, visit.account, key_id)
            if key.revoked_at is not None:
                raise NotFound("revoked already")
            # The prefix tells two keys of one name apart.
            named = f"{key.name or key.prefix} ({key.prefix}…)"
            return confirm.ask(visit, confirm.about(confirm.REVOKE_KEY, key_id, named))
        await posted_form(visit)
        await manage.revoke_key(visit.database, visit.account, visit.user, key_id)
    except NotFound:
        raise errors.KeyMissing() from None
    return visit.redirect("keys?notice=key-revoked")


# -- staff users --------------------------------------------------------------------------


async def _users_page(visit: Visit, status: int = 200, **context: object) -> Response:
    found = await manage.staff_users(visit.database, visit.account)
    context.setdefault("form", INVITE_FORM)
    context.setdefault("form_errors", {})
    return visit.render("users.html", status, users=found, **context)


@admin_page(admins_only=True)
async def users(visit: Visit) -> Response:
    """The account's staff users, and the form to invite one."""
    return await _users_page(visit)


INVITE_FORM = {
    "username": "",
    "emailaddress": "",
    "firstname": "",
    "lastname": "",
    "language": LANGUAGES[0],
    "admin": False,
}
INVITE_PROBLEMS = {
    "username": N_(
        "A username has at most %(max)s characters, no spaces at its start or end and no "
        "invisible characters."
    ),
    "taken": N_("This username is used by another staff user already."),
    "emailaddress": N_("Enter an e-mail address such as name@example.com."),
    "firstname": N_("Enter a name of at most 255 characters."),
    "lastname": N_("Enter a name of at most 255 characters."),
    "language": N_("Choose one from the list."),
}


@admin_page(admins_only=True)
async def invite_user(visit: Visit) -> Response:
    """A new staff user, mailed a link to choose a password."""
    assert visit.user is not None
    if visit.request.method == "GET":
        return visit.redirect("users")
    form = await posted_form(visit)
    typed = {name: form.get(name, "") for name in INVITE_FORM if name != "admin"}
    admin = form.get("admin") == "1"
    problems = await manage.invitation_problems(visit.database, visit.account, typed)
    if not problems:
        try:
            invited = await manage.invite_user(
                visit.database,
                visit.request.app.state.mailer,
                visit.account,
                visit.user,
                NewUser(**typed, admin=admin).checked(),
            )
        except (InvalidInput, visit.database.IntegrityError):
            # Taken meanwhile, by an invitation sent at the same moment.
            problems = {"username": "taken"}
    if problems:
        values = {**typed, "admin": admin}
        shown = {
            field: (INVITE_PROBLEMS[problem], {"max": USERNAME_MAX})
            for field, problem in problems.items()
        }
        return await _users_page(visit, 400, form=values, form_errors=shown)
    return visit.redirect(f"users/{invited.iduser}?notice=invited")


def _user_id(visit: Visit) -> int:
    found = positive_number(visit.request.path_params["iduser"])
    if found is None:
        raise errors.StaffUserMissing()
    return found


async def _user_page(visit: Visit, iduser: int, status: int = 200, **context: object) -> Response:
    try:
        member = await manage.staff_user(visit.database, visit.account, iduser)
    except NotFound:
        raise errors.StaffUserMissing() from None
    return visit.render(
        "user.html", status, member=member, staff=member.user, notice=_notice(visit), **context
    )


@admin_page(admins_only=True)
async def user(visit: Visit) -> Response:
    """One staff user, and what an administrator can do to it."""
    return await _user_page(visit, _user_id(visit))


ACTIONS = {
    "deactivate": (manage.deactivate_user, "deactivated"),
    "reactivate": (manage.reactivate_user, "reactivated"),
    "reset-second-factor": (manage.reset_second_factor, "second-factor-reset"),
}


CONFIRMATIONS = {
    "deactivate": confirm.DEACTIVATE_USER,
    "reset-second-factor": confirm.RESET_SECOND_FACTOR,
}


@admin_page(admins_only=True)
async def change_user(visit: Visit) -> Response:
    """Deactivate, reactivate, make or unmake administrator, reset the second factor."""
    assert visit.user is not None
    iduser = _user_id(visit)
    action = visit.request.path_params["action"]
    if visit.request.method == "GET" and action in CONFIRMATIONS:
        try:
            member = await manage.staff_user(visit.database, visit.account, iduser)
        except NotFound:
            raise errors.StaffUserMissing() from None
        named = confirm.about(CONFIRMATIONS[action], iduser, member.user.username)
        return confirm.ask(visit, named)
    if visit.request.method == "GET" or (action not in ACTIONS and action != "admin"):
        return visit.redirect(f"users/{iduser}")
    form = await posted_form(visit)
    try:
        if action == "admin":
            admin = form.get("admin") == "1"
            await manage.set_admin(visit.database, visit.account, visit.user, iduser, admin)
            notice = "admin-changed"
        else:
            change, notice = ACTIONS[action]
            await change(visit.database, visit.account, visit.user, iduser)
    except LastAdmin:
        return await _user_page(visit, iduser, 400, error=errors.LastAdminStays())
    except NotFound:
        raise errors.StaffUserMissing() from None
    return visit.redirect(f"users/{iduser}?notice={notice}")


# -- the audit log ------------------------------------------------------------------------


@admin_page(admins_only=True)
async def audit_log(visit: Visit) -> Response:
    """Every change to the account and its customers, newest first, by who and what."""
    query = visit.request.query_params
    who = audit.Who.parse(query.get("who"))
    what = query.get("what", "")
    what = what if what in audit.SUBJECTS else ""
    offset = page_offset(query.get("offset"), audit.LOG_PAGE_SIZE)
    entries = await manage.log_page(visit.database, visit.account, who, what, offset)
    filters = await manage.log_filters(visit.database, visit.account)
    choices = await service.choices(visit.database, visit.account)
    return visit.render(
        "audit.html",
        choices=choices,
        entries=entries,
        filters=filters,
        who=who.value,
        what=what,
        subjects=audit.SUBJECTS,
        offset=offset,
        page_size=audit.LOG_PAGE_SIZE,
        page_number=offset // audit.LOG_PAGE_SIZE + 1,
        more=len(entries) == audit.LOG_PAGE_SIZE,
    )


def pages(prefix: str) -> list[Route]:
    both = ["GET", "POST"]
    return [
        Route(f"{prefix}/keys", keys, methods=["GET"]),
        Route(f"{prefix}/keys/new", new_key, methods=both),
        Route(f"{prefix}/keys/{{key}}/created", created_key, methods=["GET"]),
        Route(f"{prefix}/keys/{{key}}/revoke", revoke_key, methods=both),
        Route(f"{prefix}/users", users, methods=["GET"]),
        Route(f"{prefix}/users/invite", invite_user, methods=both),
        Route(f"{prefix}/users/{{iduser}}", user, methods=["GET"]),
        Route(f"{prefix}/users/{{iduser}}/{{action}}", change_user, methods=both),
        Route(f"{prefix}/audit", audit_log, methods=["GET"]),
    ]
