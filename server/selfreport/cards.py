"""Door cards (帮扶联系卡): what is printed on each, and its QR code."""

from dataclasses import dataclass

import segno
from flask import current_app, url_for
from markupsafe import Markup

from ..models import Household


def mask_name(name: str) -> str:
    """Family name and last character shown, the rest starred: 李建忠 -> 李*忠, 李明 -> 李*.

    Anyone passing the door reads the card, so the full name is not printed on it.
    """
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def public_url(token: str) -> str:
    """The link in the QR code: on the configured public address when there is one (the
    server behind a proxy does not know it), else the address of this request."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    path = url_for("selfreport_public.page", token=token)
    if base:
        return base.rstrip("/") + path
    return url_for("selfreport_public.page", token=token, _external=True)


def qr_svg(url: str) -> Markup:
    """The QR code as inline SVG, sized by CSS. Error correction M: a card on a door gets
    dirty and scratched; H would make the code denser and harder for old phone cameras."""
    code = segno.make(url, error="m", micro=False, boost_error=False)
    return Markup(code.svg_inline(scale=1, border=4, omitsize=True, dark="#000"))


@dataclass(frozen=True)
class Card:
    head: str
    village: str
    town: str
    klass: str
    cadres: list
    office_phone: str | None
    url: str
    qr: Markup


def card_for(household: Household, token: str) -> Card:
    url = public_url(token)
    town = household.village.town
    return Card(
        head=mask_name(household.head_name),
        village=household.village.name,
        town=town.name,
        klass=household.klass,
        cadres=[(c.display_name, c.phone) for c in household.cadres],
        office_phone=town.office_phone,
        url=url,
        qr=qr_svg(url),
    )
