"""The one place that says who may see what.

Every query for households, members, assignments, visits, photos and self-reports starts
here. An id outside the user's scope answers 404, exactly like an id that does not exist.
"""

from flask import abort
from sqlalchemy import Select, false, select, true
from sqlalchemy.sql.elements import ColumnElement

from .extensions import db
from .models import (
    Assignment,
    Household,
    ImportJob,
    Member,
    Photo,
    SelfReport,
    User,
    Village,
    Visit,
)


def active_assignments():
    return select(Assignment.household_id).where(Assignment.ended_at.is_(None))


def _village_ids(user: User):
    """The villages a supervisor oversees: the listed ones, else the whole town."""
    if user.villages:
        return [v.id for v in user.villages]
    return select(Village.id).where(Village.town_id == user.town_id)


def scope_village_ids(user: User) -> list[int] | None:
    """The villages a supervisor oversees, as ids; None for roles not scoped by village."""
    if user.role != "supervisor":
        return None
    if user.villages:
        return [v.id for v in user.villages]
    return list(db.session.scalars(_village_ids(user).order_by(Village.id)))


def household_condition(user: User) -> ColumnElement[bool]:
    if user.role == "admin":
        return true()
    if user.role == "supervisor":
        if user.town_id is None and not user.villages:
            return false()
        return Household.village_id.in_(_village_ids(user))
    if user.role == "cadre":
        return Household.id.in_(active_assignments().where(Assignment.cadre_id == user.id))
    return false()


def village_condition(user: User) -> ColumnElement[bool]:
    if user.role == "admin":
        return true()
    if user.role == "supervisor":
        return Village.id.in_(_village_ids(user))
    if user.role == "cadre":
        mine = select(Household.village_id).where(household_condition(user))
        return Village.id.in_(mine)
    return false()


def formerly_assigned(user: User) -> Select:
    """Ids of households whose assignment to this cadre has ended: a phone is told to drop
    them, and learns nothing else about them."""
    return select(Assignment.household_id).where(
        Assignment.cadre_id == user.id, Assignment.ended_at.is_not(None)
    )


def households(user: User) -> Select:
    return select(Household).where(household_condition(user))


def villages(user: User) -> Select:
    return select(Village).where(village_condition(user)).order_by(Village.name)


def members(user: User) -> Select:
    return select(Member).join(Member.household).where(household_condition(user))


def visits(user: User) -> Select:
    return select(Visit).join(Visit.household).where(household_condition(user))


def photos(user: User) -> Select:
    return (
        select(Photo)
        .join(Household, Photo.household_id == Household.id)
        .where(household_condition(user))
    )


def reports(user: User) -> Select:
    """Household self-reports: seen by whoever may see the household."""
    return select(SelfReport).join(SelfReport.household).where(household_condition(user))


def cadres(user: User) -> Select:
    """Cadres a user may assign: admins any; supervisors those of their town."""
    query = select(User).where(User.role == "cadre")
    if user.role == "admin":
        return query
    if user.role == "supervisor":
        return query.where(User.town_id == user.town_id)
    return query.where(false())


def _one_or_404(query: Select, ident: int):
    found = db.session.scalars(query.limit(1)).first()
    if found is None:
        abort(404)
    return found


def get_household(user: User, household_id: int) -> Household:
    return _one_or_404(households(user).where(Household.id == household_id), household_id)


def get_member(user: User, member_id: int) -> Member:
    return _one_or_404(members(user).where(Member.id == member_id), member_id)


def get_village(user: User, village_id: int) -> Village:
    return _one_or_404(villages(user).where(Village.id == village_id), village_id)


def get_cadre(user: User, cadre_id: int) -> User:
    return _one_or_404(cadres(user).where(User.id == cadre_id), cadre_id)


def get_report(user: User, report_id: int) -> SelfReport:
    return _one_or_404(reports(user).where(SelfReport.id == report_id), report_id)


def can_edit_registry(user: User) -> bool:
    return user.role in ("admin", "supervisor")


def can_unmask_id_numbers(user: User) -> bool:
    return user.role in ("admin", "supervisor")


def can_manage_links(user: User) -> bool:
    """Issuing, re-issuing and revoking door-card links: supervisors (in scope) and admins."""
    return user.role in ("admin", "supervisor")


def require(allowed: bool) -> None:
    if not allowed:
        abort(403)


def import_job_condition(user: User) -> ColumnElement[bool]:
    """Import jobs: admins see every one, others their own (the file holds ID numbers)."""
    if user.role == "admin":
        return true()
    return ImportJob.created_by_id == user.id
