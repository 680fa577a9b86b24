"""The page behind the QR code on a household's door: /r/<token>.

No account and no cookie: the token in the URL is the only credential, so there is no
ambient authority for a cross-site request to borrow, and classic CSRF has nothing to attack
(a site that knew the token could post directly). Each form carries a signed one-time nonce
instead: it ties the form to this household's link, expires, and makes a resubmission (a
double tap, a reload on a poor connection) find the report already stored rather than make a
second one.

Unknown, revoked and malformed tokens get the same 404 page; rate limits per address apply
before the token is even looked at, so they cannot tell one kind of token from another.
"""

import secrets

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import force_locale

# Lazy: turned into text when a page is rendered (named _ so pybabel extracts them).
from flask_babel import lazy_gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from marshmallow import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from .. import images, ratelimit
from ..extensions import db
from ..models import REPORT_CATEGORIES, HouseholdLink
from ..schemas.selfreport import PublicReportSchema
from . import reports, tokens
from .cards import mask_name
from .labels import CATEGORY_LABELS, STATUS_LABELS

# A family's photo is kept at the size a cadre's photo arrives in (the phone shrinks those).
PHOTO_LONG_EDGE = 1600

bp = Blueprint("selfreport_public", __name__)

NONCE_MAX_AGE = 2 * 24 * 3600
HONEYPOT = "homepage"  # hidden from people; bots fill in every field they find


@bp.after_request
def _private_page_headers(response):
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return response


def _render(template: str, status: int = 200, **context):
    """Families read Chinese: the public pages ignore the browser's language."""
    with force_locale("zh"):
        return render_template(template, **context), status


def _not_found():
    return _render("selfreport/public_not_found.html", 404)


def _too_many(wait_seconds: int):
    minutes = max(1, (wait_seconds + 59) // 60)
    body, status = _render("selfreport/public_too_many.html", 429, minutes=minutes)
    return body, status, {"Retry-After": str(wait_seconds)}


def _limit_address(kind: str) -> int:
    limit, window = current_app.config[f"SELFREPORT_{kind}_LIMIT_PER_ADDRESS"]
    key = ratelimit.hashed_key(f"sr-{kind.lower()}", request.remote_addr or "")
    return ratelimit.hit(key, limit, window)


def _limit_link(link: HouseholdLink) -> int:
    cfg = current_app.config
    for name, window in (("HOUR", 3600), ("DAY", 86400)):
        key = ratelimit.hashed_key(f"sr-{name.lower()}", link.token_hash)
        wait = ratelimit.hit(key, cfg[f"SELFREPORT_REPORTS_PER_{name}"], window)
        if wait:
            return wait
    return 0


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="selfreport-form")


def _new_nonce(link: HouseholdLink) -> str:
    # The link is named by a piece of its hash, not its id: a row number would hint at how
    # many links exist.
    return _serializer().dumps({"l": link.token_hash[:16], "n": secrets.token_hex(12)})


def _read_nonce(signed: str, link: HouseholdLink) -> str | None:
    try:
        data = _serializer().loads(signed, max_age=NONCE_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("l") != link.token_hash[:16]:
        return None
    nonce = data.get("n")
    return nonce if isinstance(nonce, str) and len(nonce) == 24 else None


def _page(link: HouseholdLink, token: str, status=200, form=None, errors=None, sent=None):
    household = link.household
    return _render(
        "selfreport/public_page.html",
        status,
        token=token,
        head=mask_name(household.head_name),
        village=household.village,
        town=household.village.town,
        cadres=household.cadres,
        last_visit_at=household.last_visit_at,
        recent=reports.recent_for_household(household.id),
        sent=sent,
        form=form or {},
        errors=errors or {},
        nonce=_new_nonce(link),
        categories=[(key, CATEGORY_LABELS[key]) for key in REPORT_CATEGORIES],
        statuses=STATUS_LABELS,
        honeypot=HONEYPOT,
        max_photo_mb=current_app.config["SELFREPORT_MAX_PHOTO_BYTES"] // (1024 * 1024),
    )


@bp.get("/r/<token>")
def page(token: str):
    wait = _limit_address("PAGE")
    if wait:
        return _too_many(wait)
    link = tokens.find_live_link(token)
    if link is None:
        return _not_found()
    sent = None
    if request.args.get("sent"):
        sent = reports.by_reference(link.household_id, request.args["sent"])
    return _page(link, token, sent=sent)


# Lazy: they are turned into text when the page is rendered, in Chinese.
FIELD_ERRORS = {
    "category": _("Choose what happened."),
    "description": _("Describe what happened, in 2 to 500 characters."),
    "urgency": _("Choose how urgent it is."),
    "phone": _(
        "This is not a phone number. Write a mobile number (11 digits) or a landline "
        "with its area code, or leave it empty."
    ),
}
NOT_A_PHOTO = _(
    "This file is not a photo we can read. Choose a JPG or PNG photo, or send without one."
)
TOO_MANY_PIXELS = _(
    "This picture is too large for us to read. Choose a camera photo or a screenshot, "
    "or send without one."
)
PHOTOS_BUSY = _("Many photos are arriving right now. Wait a minute and send again.")
EXPIRED = _("This page was open for a long time. Check your answers and send again.")


class PhotoProblem(Exception):
    def __init__(self, message, status: int):
        super().__init__(message)
        self.message, self.status = message, status


def _photo_too_large() -> PhotoProblem:
    mb = current_app.config["SELFREPORT_MAX_PHOTO_BYTES"] // (1024 * 1024)
    message = _(
        "The photo is too large (at most %(mb)s MB). Choose a smaller photo, or send without one.",
        mb=mb,
    )
    return PhotoProblem(message, 413)


def _read_photo() -> images.Encoded | None:
    """The uploaded photo re-encoded, None when there is none; PhotoProblem when refused."""
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return None
    limit = current_app.config["SELFREPORT_MAX_PHOTO_BYTES"]
    raw = upload.stream.read(limit + 1)
    if not raw:
        return None
    if len(raw) > limit:
        raise _photo_too_large()
    try:
        return images.reencode(raw, PHOTO_LONG_EDGE, images.PUBLIC)
    except images.TooManyPixels:
        raise PhotoProblem(TOO_MANY_PIXELS, 413) from None
    except images.ImageProblem:
        raise PhotoProblem(NOT_A_PHOTO, 422) from None
    except images.DecoderBusy:
        raise PhotoProblem(PHOTOS_BUSY, 503) from None


@bp.post("/r/<token>")
def submit(token: str):
    wait = _limit_address("POST")
    if wait:
        return _too_many(wait)
    # Room for the photo and the text fields; a bigger body is refused before it is parsed.
    request.max_content_length = current_app.config["SELFREPORT_MAX_PHOTO_BYTES"] + 512 * 1024
    link = tokens.find_live_link(token)
    if link is None:
        return _not_found()
    try:
        form = request.form
    except RequestEntityTooLarge:
        return _page(link, token, 413, errors={"photo": _photo_too_large().message})
    if form.get(HONEYPOT):
        return _render("selfreport/public_thanks.html")
    return _accept(link, token, form)


def _accept(link: HouseholdLink, token: str, form):
    values = {k: form.get(k, "") for k in ("category", "description", "urgency", "phone")}
    nonce = _read_nonce(form.get("nonce", ""), link)
    if nonce is None:
        return _page(link, token, 422, form=values, errors={"form": EXPIRED})
    existing = reports.by_nonce(link.household_id, nonce)
    if existing is not None:  # the same form sent twice
        return _sent(token, existing)
    errors, status = {}, 422
    try:
        data = PublicReportSchema().load(form)
    except ValidationError as invalid:
        errors = {
            name: FIELD_ERRORS.get(name, FIELD_ERRORS["description"]) for name in invalid.messages
        }
    try:
        photo = _read_photo()
    except PhotoProblem as problem:
        errors["photo"], status = problem.message, problem.status
    if errors:
        return _page(link, token, status, form=values, errors=errors)
    wait = _limit_link(link)
    if wait:
        return _too_many(wait)
    report = reports.create(link, data, nonce, photo)
    db.session.commit()
    return _sent(token, report)


def _sent(token: str, report):
    return redirect(url_for(".page", token=token, sent=report.reference), 303)
