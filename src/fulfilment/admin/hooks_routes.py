"""The administrators' webhooks pages: the account's hooks, a new one, one hook with its
name, address and secret, (de)activating it, a test event, and its delivery log. Every
action is one call into the hooks service, as the logged-in staff user."""

from __future__ import annotations

import secrets

import msgspec
from starlette.responses import Response
from starlette.routing import Route

from ..encryption import box_for
from ..errors import HookAddressTaken, HookLimitReached, HookNotFound, InvalidInput
from ..hooks import service as hooks
from ..hooks.schemas import EVENTS, Address, Hook, HookCreate, HookName, HookUpdate
from ..web.i18n import N_
from ..wire import PAGE_SIZE
from . import confirm, errors, once, service
from .manage_routes import page_offset, positive_number, posted_form
from .web import Visit, admin_page

NOTICES = {
    "hook-saved": N_("The webhook has been saved."),
    "hook-deactivated": N_("The webhook has been deactivated: nothing is sent to it."),
    "hook-reactivated": N_("The webhook is active again."),
    "hook-tested": N_("A test event is on its way: see the delivery log."),
}
PROBLEMS = {
    "name": N_("Enter a name of at most 255 characters."),
    "event": N_("Choose one from the list."),
    "address": N_(
        "This address cannot receive webhooks: use an http or https address on the public internet."
    ),
    "taken": N_("This account already has a webhook for this event at this address."),
}


async def _problems(visit: Visit, typed: dict[str, str], idhook: int | None) -> dict[str, str]:
    """Each field of the hook form that cannot be used, with its words: all of them at
    once, each by the rule the hooks service applies (`typed` holds an `event` on a new
    hook; a hook keeps the event it was made for)."""
    assert visit.user is not None
    principal = visit.user.principal(visit.account)
    problems: dict[str, str] = {}
    try:
        hooks.clean_name(msgspec.convert(typed["name"], HookName))
    except (InvalidInput, msgspec.ValidationError):
        problems["name"] = PROBLEMS["name"]
    if idhook is None:
        event = typed["event"]
        if event not in EVENTS:
            problems["event"] = PROBLEMS["event"]
    else:
        event = (await _found(visit, idhook)).event
    allow_private = visit.database.settings.hooks_allow_private
    try:
        address = await hooks.clean_address(
            msgspec.convert(typed["address"], Address), allow_private
        )
    except (InvalidInput, msgspec.ValidationError):
        problems["address"] = PROBLEMS["address"]
    else:
        if "event" not in problems and await hooks.address_in_use(
            visit.database, principal, event, address, idhook
        ):
            problems["address"] = PROBLEMS["taken"]
    return problems


async def _found(visit: Visit, idhook: int) -> Hook:
    """The hook `idhook` of the account; the page for a missing hook when there is none."""
    assert visit.user is not None
    try:
        return await hooks.get_hook(visit.database, visit.user.principal(visit.account), idhook)
    except HookNotFound:
        raise errors.HookMissing() from None


def _hook_id(visit: Visit) -> int:
    found = positive_number(visit.request.path_params["idhook"])
    if found is None:
        raise errors.HookMissing()
    return found


async def _list_page(visit: Visit, status: int = 200, **context: object) -> Response:
    assert visit.user is not None
    offset = page_offset(visit.request.query_params.get("offset"), PAGE_SIZE)
    found = await hooks.list_hooks(visit.database, visit.user.principal(visit.account), offset)
    context.setdefault("form", {"name": "", "event": EVENTS[0], "address": "", "sign": True})
    context.setdefault("form_errors", {})
    return visit.render(
        "hooks.html",
        status,
        hooks=found,
        events=EVENTS,
        offset=offset,
        page_size=PAGE_SIZE,
        more=len(found) == PAGE_SIZE,
        **context,
    )


@admin_page(admins_only=True)
async def hook_list(visit: Visit) -> Response:
    """The account's webhooks, and the form for a new one."""
    return await _list_page(visit)


@admin_page(admins_only=True)
async def new_hook(visit: Visit) -> Response:
    """Create a hook; with a secret, it is shown once on the hook's page."""
    assert visit.user is not None
    if visit.request.method == "GET":
        return visit.redirect("hooks")
    form = await posted_form(visit)
    typed = {
        "name": form.get("name", "").strip(),
        "event": form.get("event", ""),
        "address": form.get("address", "").strip(),
    }
    secret = secrets.token_urlsafe(32) if form.get("sign") == "1" else None
    problems = await _problems(visit, typed, None)
    if not problems:
        body = msgspec.convert({**typed, "secret": secret}, HookCreate)
        try:
            hook = await hooks.create_hook(
                visit.database, visit.user.principal(visit.account), body, box_for(visit.database)
            )
        except HookLimitReached as full:
            raise errors.HookLimit(limit=full.limit) from None
        except HookAddressTaken:  # by another request since the check
            problems = {"address": PROBLEMS["taken"]}
        except InvalidInput:  # the address's host resolves elsewhere since the check
            problems = {"address": PROBLEMS["address"]}
        else:
            return await _saved(visit, hook.idhook, secret)
    values = {**typed, "sign": secret is not None}
    return await _list_page(visit, 400, form=values, form_errors=problems)


async def _saved(visit: Visit, idhook: int, secret: str | None) -> Response:
    """To the hook's page; a new secret goes along once, kept on the server."""
    assert visit.user is not None
    if secret is None:
        return visit.redirect(f"hooks/{idhook}?notice=hook-saved")
    shown = {"secret": secret}
    token = await once.keep(visit.database, visit.account, visit.user, "hook", idhook, shown)
    return visit.redirect(f"hooks/{idhook}?notice=hook-saved&once={token}")


async def _hook_page(visit: Visit, idhook: int, status: int = 200, **context: object) -> Response:
    hook = await _found(visit, idhook)
    context.setdefault("form", {"name": hook.name, "address": hook.address})
    context.setdefault("form_errors", {})
    context.setdefault("secret", None)
    context.setdefault("notice", NOTICES.get(visit.request.query_params.get("notice", "")))
    return visit.render("hook.html", status, hook=hook, **context)


@admin_page(admins_only=True)
async def hook(visit: Visit) -> Response:
    """One webhook: its form, its secret (once, after it was made), switching it off and
    on, a test event."""
    assert visit.user is not None
    idhook = _hook_id(visit)
    token = visit.request.query_params.get("once")
    shown = await once.take(visit.database, visit.account, visit.user, "hook", idhook, token)
    return await _hook_page(visit, idhook, secret=shown["secret"] if shown else None)


async def _confirm(visit: Visit, idhook: int, confirmation: confirm.Confirmation) -> Response:
    found = await _found(visit, idhook)
    return confirm.ask(visit, confirm.about(confirmation, idhook, found.name))


@admin_page(admins_only=True)
async def edit_hook(visit: Visit) -> Response:
    """Change the name and address."""
    assert visit.user is not None
    idhook = _hook_id(visit)
    if visit.request.method == "GET":
        return visit.redirect(f"hooks/{idhook}")
    form = await posted_form(visit)
    typed = {"name": form.get("name", "").strip(), "address": form.get("address", "").strip()}
    problems = await _problems(visit, typed, idhook)
    if not problems:
        principal = visit.user.principal(visit.account)
        body = msgspec.convert(typed, HookUpdate)
        try:
            await hooks.update_hook(
                visit.database, principal, idhook, body, box_for(visit.database)
            )
        except HookNotFound:
            raise errors.HookMissing() from None
        except HookAddressTaken:  # by another request since the check
            problems = {"address": PROBLEMS["taken"]}
        except InvalidInput:  # the address's host resolves elsewhere since the check
            problems = {"address": PROBLEMS["address"]}
        else:
            return visit.redirect(f"hooks/{idhook}?notice=hook-saved")
    return await _hook_page(visit, idhook, 400, form=typed, form_errors=problems)


@admin_page(admins_only=True)
async def rotate_secret(visit: Visit) -> Response:
    """A new secret, shown once; deliveries are signed with it from now on."""
    assert visit.user is not None
    idhook = _hook_id(visit)
    if visit.request.method == "GET":
        return await _confirm(visit, idhook, confirm.NEW_HOOK_SECRET)
    await posted_form(visit)
    secret = secrets.token_urlsafe(32)
    try:
        await hooks.update_hook(
            visit.database,
            visit.user.principal(visit.account),
            idhook,
            HookUpdate(secret=secret),
            box_for(visit.database),
        )
    except HookNotFound:
        raise errors.HookMissing() from None
    return await _saved(visit, idhook, secret)


@admin_page(admins_only=True)
async def switch_hook(visit: Visit) -> Response:
    """Deactivate, reactivate, or send the event `ping`."""
    assert visit.user is not None
    idhook = _hook_id(visit)
    action = visit.request.path_params["action"]
    if visit.request.method == "GET" and action == "deactivate":
        return await _confirm(visit, idhook, confirm.DEACTIVATE_HOOK)
    if visit.request.method == "GET" or action not in ("deactivate", "reactivate", "test"):
        return visit.redirect(f"hooks/{idhook}")
    await posted_form(visit)
    principal = visit.user.principal(visit.account)
    try:
        if action == "test":
            await hooks.test_hook(visit.database, principal, idhook)
            return visit.redirect(f"hooks/{idhook}/deliveries?notice=hook-tested")
        await hooks.set_active(visit.database, principal, idhook, action == "reactivate")
    except HookNotFound:
        raise errors.HookMissing() from None
    except HookLimitReached as full:
        return await _hook_page(visit, idhook, 400, error=errors.HookLimit(limit=full.limit))
    except InvalidInput:
        # A test event for an inactive hook: it must be reactivated first.
        return await _hook_page(visit, idhook, 400, error=errors.HookInactive())
    return visit.redirect(f"hooks/{idhook}?notice=hook-{action}d")


@admin_page(admins_only=True)
async def deliveries(visit: Visit) -> Response:
    """The hook's deliveries, newest first, each attempt with its status, time and error."""
    assert visit.user is not None
    idhook = _hook_id(visit)
    offset = page_offset(visit.request.query_params.get("offset"), PAGE_SIZE)
    principal = visit.user.principal(visit.account)
    try:
        found = await hooks.get_hook(visit.database, principal, idhook)
        log = await hooks.deliveries(visit.database, principal, idhook, offset)
    except HookNotFound:
        raise errors.HookMissing() from None
    about = await service.delivery_customers(visit.database, visit.account, idhook, offset)
    return visit.render(
        "deliveries.html",
        hook=found,
        deliveries=log,
        about=about,
        offset=offset,
        page_size=PAGE_SIZE,
        more=len(log) == PAGE_SIZE,
        notice=NOTICES.get(visit.request.query_params.get("notice", "")),
    )


def pages(prefix: str) -> list[Route]:
    both = ["GET", "POST"]
    return [
        Route(f"{prefix}/hooks", hook_list, methods=["GET"]),
        Route(f"{prefix}/hooks/new", new_hook, methods=both),
        Route(f"{prefix}/hooks/{{idhook}}", hook, methods=["GET"]),
        Route(f"{prefix}/hooks/{{idhook}}/edit", edit_hook, methods=both),
        Route(f"{prefix}/hooks/{{idhook}}/secret", rotate_secret, methods=both),
        Route(f"{prefix}/hooks/{{idhook}}/deliveries", deliveries, methods=["GET"]),
        Route(f"{prefix}/hooks/{{idhook}}/{{action}}", switch_hook, methods=both),
    ]
