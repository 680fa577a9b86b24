"""Reading an office page's query (month, class, villages, page cursor) and the template
helpers the pages share."""

from collections import defaultdict
from datetime import datetime

from flask import abort, request, url_for
from flask_babel import get_locale, gettext
from flask_login import current_user

from .. import access, idcard, pagination
from ..coverage import labels
from ..coverage.periods import Period, local_zone, parse
from ..coverage.stats import Scope
from ..errors import ApiError
from ..extensions import db
from ..models import KLASSES, utcnow
from ..params import int_arg  # noqa: F401 (the pages import it from here)
from .site import bp


@bp.record_once
def register_helpers(state) -> None:
    state.app.jinja_env.globals.update(labels.TEMPLATE_HELPERS)
    # base.html asks for the locale; Flask-Babel does not put get_locale in templates itself.
    state.app.jinja_env.globals.setdefault("get_locale", get_locale)
    state.app.jinja_env.globals.update(
        page_url=page_url,
        period_max=period_max,
        villages_for_filter=villages_for_filter,
        mask_id=idcard.mask,
    )
    state.app.jinja_env.filters.update(labels.TEMPLATE_FILTERS)


PAGE_SIZE = 50


def now() -> datetime:
    return utcnow()


def period_arg(allow_year: bool = False) -> Period:
    period = parse(request.args.get("period"), now(), local_zone(), allow_year=allow_year)
    if period is None:
        abort(400, gettext("The period must be a past or current month, as 2026-05."))
    return period


def klass_arg() -> str | None:
    klass = request.args.get("klass") or None
    if klass is not None and klass not in KLASSES:
        abort(400, gettext("Unknown class."))
    return klass


def scope_arg(user=None) -> Scope:
    """The villages a page counts: ?village= (404 outside scope), else ?town=, else all the
    villages the user can see, grouped by town."""
    user = user or current_user
    village_id, town_id = int_arg("village"), int_arg("town")
    if village_id is not None:
        village = access.get_village(user, village_id)
        return Scope(user, [(village.town, [village])])
    villages = db.session.scalars(access.villages(user)).all()
    if town_id is not None:
        villages = [v for v in villages if v.town_id == town_id]
        if not villages:
            abort(404)
    by_town = defaultdict(list)
    for village in villages:
        by_town[village.town_id].append(village)
    towns = {v.town_id: v.town for v in villages}
    ordered = sorted(by_town, key=lambda t: towns[t].name)
    return Scope(user, [(towns[t], by_town[t]) for t in ordered])


def after_arg() -> int | None:
    try:
        return pagination.decode(request.args.get("after"))
    except ApiError:
        abort(400, gettext("The page cursor is not valid."))


def next_cursor(rows: list, key) -> str | None:
    if len(rows) <= PAGE_SIZE:
        return None
    return pagination.encode(key(rows[PAGE_SIZE - 1]))


def page_url(endpoint: str, **changes) -> str:
    """This page's URL with some query arguments changed (None drops one)."""
    args = request.args.to_dict() | changes
    return url_for(endpoint, **{k: v for k, v in args.items() if v not in (None, "")})


def period_max() -> str:
    local = now().astimezone(local_zone())
    return f"{local.year:04d}-{local.month:02d}"


def villages_for_filter():
    return db.session.scalars(access.villages(current_user)).all()
