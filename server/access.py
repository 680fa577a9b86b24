"""The one place that says who may see what.

Every query for households, members, assignments, visits, photos, self-reports, visit
flags, data conflicts, needs-action items, support measures and door-card links starts here:
each is seen by whoever may see its household. An id outside the user's scope answers 404,
exactly like an id that does not exist.
"""

from flask import abort
from sqlalchemy import Select, and_, false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from .extensions import db
from .models import (
    Assignment,
    AuditEvent,
    DataConflict,
    Household,
    HouseholdLink,
    ImportJob,
    Member,
    NeedsAction,
    Photo,
    SelfReport,
    SupportMeasure,
    User,
    Village,
    Visit,
    VisitFlag,
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


def flags(user: User) -> Select:
    """Visit flags, with their visit and household joined (pages filter on either)."""
    return (
        select(VisitFlag)
        .join(Visit, Visit.id == VisitFlag.visit_id)
        .join(Household, Household.id == Visit.household_id)
        .where(household_condition(user))
    )


def conflicts(user: User) -> Select:
    return (
        select(DataConflict)
        .join(Household, Household.id == DataConflict.household_id)
        .where(household_condition(user))
    )


def needs_actions(user: User) -> Select:
    """Needs-action items (待处理)."""
    return (
        select(NeedsAction)
        .join(Household, Household.id == NeedsAction.household_id)
        .where(household_condition(user))
    )


def measures(user: User) -> Select:
    """Support measures (帮扶措施)."""
    return (
        select(SupportMeasure)
        .join(Household, Household.id == SupportMeasure.household_id)
        .where(household_condition(user))
    )


def links(user: User) -> Select:
    """Door-card links (门牌码), live or revoked."""
    return (
        select(HouseholdLink)
        .join(Household, Household.id == HouseholdLink.household_id)
        .where(household_condition(user))
    )


def cadres(user: User) -> Select:
    """Cadres a user may assign: admins any; supervisors those of their town."""
    query = select(User).where(User.role == "cadre")
    if user.role == "admin":
        return query
    if user.role == "supervisor":
        return query.where(User.town_id == user.town_id)
    return query.where(false())


def is_town_supervisor(user: User) -> bool:
    """A supervisor of a whole town (镇扶贫办), as opposed to a village committee."""
    return user.role == "supervisor" and user.town_id is not None and not user.villages


def can_manage_accounts(user: User) -> bool:
    """Admins and town supervisors; village committees and cadres manage no accounts."""
    return user.role == "admin" or is_town_supervisor(user)


def account_condition(user: User) -> ColumnElement[bool]:
    """Accounts a user may list and change: admins any; a town supervisor the cadres and
    village committees of its town (not its peers); nobody else any."""
    if user.role == "admin":
        return true()
    if is_town_supervisor(user):
        village_committee = and_(User.role == "supervisor", User.villages.any())
        return and_(User.town_id == user.town_id, or_(User.role == "cadre", village_committee))
    return false()


def accounts(user: User) -> Select:
    return select(User).where(account_condition(user))


def get_account(user: User, account_id: int) -> User:
    return _one_or_404(accounts(user).where(User.id == account_id), account_id)


def cadre_profiles(user: User) -> Select:
    """Cadres whose page a user may open: those of a town supervisor's town (even with no
    household yet); for a village committee, those holding a household in its villages."""
    if user.role == "supervisor" and user.villages:
        holders = (
            select(Assignment.cadre_id)
            .join(Household, Household.id == Assignment.household_id)
            .where(Assignment.ended_at.is_(None), household_condition(user))
        )
        return cadres(user).where(User.id.in_(holders))
    return cadres(user)


def get_cadre_profile(user: User, cadre_id: int) -> User:
    return _one_or_404(cadre_profiles(user).where(User.id == cadre_id), cadre_id)


def audit_condition(user: User) -> ColumnElement[bool]:
    """Audit events a user may read: those of households in scope, and those of accounts
    in scope (and, for a town supervisor, of its town's settings). Events of a household
    the user cannot see stay hidden even when the user made them."""
    if user.role == "admin":
        return true()
    if user.role != "supervisor":
        return false()
    in_scope = AuditEvent.household_id.in_(select(Household.id).where(household_condition(user)))
    if not is_town_supervisor(user):
        return in_scope
    own_accounts = and_(
        AuditEvent.entity == "user",
        AuditEvent.entity_id.in_(accounts(user).with_only_columns(User.id)),
    )
    own_town = and_(AuditEvent.entity == "town", AuditEvent.entity_id == user.town_id)
    return or_(in_scope, own_accounts, own_town)


def audit_events(user: User) -> Select:
    return select(AuditEvent).where(audit_condition(user))


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


def get_flag(user: User, flag_id: int) -> VisitFlag:
    return _one_or_404(flags(user).where(VisitFlag.id == flag_id), flag_id)


def get_conflict(user: User, conflict_id: int) -> DataConflict:
    return _one_or_404(conflicts(user).where(DataConflict.id == conflict_id), conflict_id)


def get_measure(user: User, measure_id: int) -> SupportMeasure:
    return _one_or_404(measures(user).where(SupportMeasure.id == measure_id), measure_id)


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
