"""Door-card link tokens: made at random, kept only as a hash, one live token per household.

Why SHA-256 and not a password hash (argon2): a token has 192 random bits, so there is nothing
for a slow hash to protect against (no dictionary, no brute force of 2^192), and a fast,
unsalted hash lets the public page find the household with one indexed lookup. A copy of the
database (a backup, a leak) gives no working link.
"""

import hashlib
import hmac
import re
import secrets

from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import Household, HouseholdLink, User, utcnow

TOKEN_BYTES = 24  # 192 bits, printed as 32 URL-safe characters
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def live_link(household: Household) -> HouseholdLink | None:
    return db.session.scalar(
        select(HouseholdLink).where(
            HouseholdLink.household_id == household.id, HouseholdLink.revoked_at.is_(None)
        )
    )


def find_live_link(token: str) -> HouseholdLink | None:
    """The live link for a token, or None: unknown, revoked and malformed tokens look alike.

    The lookup is by the token's hash, so its timing depends on the hash (unpredictable to
    whoever guesses), never on how much of a real token a guess shares.
    """
    if not _TOKEN_SHAPE.match(token):
        return None
    wanted = hash_token(token)
    link = db.session.scalar(
        select(HouseholdLink).where(
            HouseholdLink.token_hash == wanted, HouseholdLink.revoked_at.is_(None)
        )
    )
    if link is None or not hmac.compare_digest(link.token_hash, wanted):
        return None
    if not link.household.active:
        return None
    return link


def _revoke(link: HouseholdLink, actor: User | None) -> None:
    link.revoked_at = utcnow()
    link.revoked_by_id = actor.id if actor is not None else None
    db.session.flush()  # frees the household's one live slot before a new link takes it


def issue(household: Household, actor: User | None, for_card: bool) -> str:
    """A new token for the household; any live one is revoked (its card stops working).

    Returns the token itself: the only moment it is known. `for_card` marks that a card is
    being rendered with it now.
    """
    previous = live_link(household)
    if previous is not None:
        _revoke(previous, actor)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    link = HouseholdLink(
        household_id=household.id,
        token_hash=hash_token(token),
        created_at=now,
        created_by_id=actor.id if actor is not None else None,
        card_rendered_at=now if for_card else None,
    )
    db.session.add(link)
    db.session.flush()
    audit.record(
        "reissue" if previous is not None else "issue",
        "household_link",
        link.id,
        before={"link_id": previous.id} if previous is not None else None,
        after={"household_id": household.id, "for_card": for_card},
        actor=actor,
    )
    return token


def revoke(household: Household, actor: User | None) -> bool:
    """Stop the household's card from working; False when it had no live link."""
    link = live_link(household)
    if link is None:
        return False
    _revoke(link, actor)
    audit.record(
        "revoke", "household_link", link.id, after={"household_id": household.id}, actor=actor
    )
    return True


def ensure_token(household: Household, actor: User | None = None) -> str | None:
    """Give a household without a live link one (new households, imports).

    Returns the new token, or None when the household already had a link. Nobody prints a
    token made here, so the card pages count such a household as still needing its card.
    The household must have been flushed (it needs its id).
    """
    if live_link(household) is not None:
        return None
    return issue(household, actor, for_card=False)


def needs_card(link: HouseholdLink | None) -> bool:
    return link is None or link.card_rendered_at is None
