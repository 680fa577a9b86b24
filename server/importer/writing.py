"""Writing planned households, a chunk per transaction, each household whole or not at all.

A chunk is checked against the database first (scope, ID numbers used elsewhere, cadre
accounts), then the towns, villages and cadres it needs are created, then its households are
written and audited. Existing rows for a chunk are loaded in a few queries, never per row.

A dry run goes through the same steps but writes nothing at all: new rows get stand-in ids,
changes to loaded households are dropped at the end of each chunk. So checking a county file
never holds the database's write lock (SQLite has one for the whole file), and the import's
progress can be written meanwhile.
"""

from collections import Counter
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from itertools import count

from flask_babel import lazy_gettext as _
from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from .. import audit, changes, coverage, idcard
from ..coverage.periods import local_today
from ..extensions import db
from ..households import MEMBER_FIELDS as AUDITED_MEMBER_FIELDS
from ..households import member_snapshot
from ..models import (
    Assignment,
    Household,
    Member,
    SupportMeasure,
    Town,
    User,
    Village,
    utcnow,
)
from .errors import RowError, RowProblem
from .references import Directory, NewCadre, Scope
from .report import ImportReport
from .validation import CadreRef, HouseholdPlan

MEMBER_FIELDS = ("name", "relation", "birth_year", "sex", "position")
OPTIONAL_MEMBER_FIELDS = ("health", "labour_capacity")  # written only when the file has them


@dataclass
class Checked:
    """A plan that passed the database checks, with its references settled."""

    plan: HouseholdPlan
    town: str
    cadres: list[int | NewCadre] | None
    existing: Household | None = None


@dataclass
class ChunkWork:
    tally: Counter = field(default_factory=Counter)
    audits: list[tuple] = field(default_factory=list)  # (action, entity, target, before, after)
    new_households: list[tuple] = field(default_factory=list)  # (plan, village id, cadre ids)

    def audit(self, action, entity, target, before=None, after=None) -> None:
        self.audits.append((action, entity, target, before, after))


class RegistryWriter:
    def __init__(
        self,
        *,
        scope: Scope,
        directory: Directory,
        labels: dict[str, str],
        file_codes: set[str],
        report: ImportReport,
        actor=None,
        reason=None,
    ):
        self.scope, self.directory, self.labels = scope, directory, labels
        self.file_codes, self.report = file_codes, report
        self.actor, self.reason = actor, reason
        self.seen_ids: dict[str, tuple[str, int]] = {}  # ID number -> (household code, row)
        self.optional_member_fields = tuple(f for f in OPTIONAL_MEMBER_FIELDS if f in labels)
        self.today = local_today()  # measures start and end today, households enter
        self._stand_in_ids = count(-1, -1)  # a dry run's new rows

    # -- a chunk ------------------------------------------------------------------------------

    def write(self, plans: list[HouseholdPlan], may_split: bool = True) -> None:
        if not plans:
            return
        unwritten = db.session.no_autoflush if self.report.dry_run else nullcontext()
        with _planned_afresh(), unwritten:
            self._write(plans, may_split)

    def _write(self, plans: list[HouseholdPlan], may_split: bool) -> None:
        try:
            checked, rejected = self._check_all(plans)
            work = ChunkWork()
            self._create_references(checked, work)
            for item in checked:
                self._write_household(item, work)
            self._finish(work)
        except SQLAlchemyError as exc:
            db.session.rollback()
            self.directory = Directory.load()
            if may_split and len(plans) > 1:
                for plan in plans:
                    self._write([plan], may_split=False)
            else:
                reason = _(
                    "the database refused this household: %(reason)s",
                    reason=str(getattr(exc, "orig", exc)).splitlines()[0][:120],
                )
                self.report.reject([self._error(plans[0], plans[0].rows[0], "code", reason)])
            return
        for errors in rejected:
            self.report.reject(errors)
        self.report.add(work.tally)

    def _finish(self, work: ChunkWork) -> None:
        self._insert_households(work)
        if self.report.dry_run:
            db.session.rollback()  # the changes made to loaded households
            return
        db.session.flush()
        events = [
            {
                "action": action,
                "entity": entity,
                "before": before,
                "after": after,
                "entity_id": target if isinstance(target, int) or target is None else target.id,
            }
            for action, entity, target, before, after in work.audits
        ]
        audit.record_many(events, self.reason, self.actor)
        db.session.commit()

    def finish(self) -> None:
        """One summary event for an import that changed something; a dry run changes nothing."""
        if self.report.dry_run:
            db.session.rollback()
            return
        if self.report.changed:
            audit.record(
                "import", "registry", None, None, self.report.counts(), self.reason, self.actor
            )
        db.session.commit()

    # -- checks against the database ----------------------------------------------------------

    def _check_all(self, plans: list[HouseholdPlan]) -> tuple[list[Checked], list[list]]:
        existing = self._existing([p.code for p in plans])
        elsewhere = self._id_numbers_elsewhere(plans)
        checked, rejected = [], []
        for plan in plans:
            item, errors = self._check(plan, existing.get(plan.code), elsewhere)
            if errors:
                rejected.append(errors)
            else:
                checked.append(item)
        return checked, rejected

    def _existing(self, codes: list[str]) -> dict[str, Household]:
        query = (
            select(Household)
            .where(Household.code.in_(codes))
            .options(
                selectinload(Household.members),
                selectinload(Household.assignments),
                selectinload(Household.measures),
            )
        )
        return {h.code: h for h in db.session.scalars(query)}

    def _id_numbers_elsewhere(self, plans: list[HouseholdPlan]) -> dict[str, str]:
        """ID numbers of these plans held by registry households that the file leaves alone."""
        numbers = [m.id_number for p in plans for m in p.members]
        query = (
            select(Member.id_number, Household.code)
            .join(Member.household)
            .where(Member.id_number.in_(numbers))
        )
        return {n: code for n, code in db.session.execute(query) if code not in self.file_codes}

    def _error(self, plan: HouseholdPlan, row: int, name: str, reason) -> RowError:
        return RowError(row, name, self.labels.get(name, name), reason, plan.code)

    def _check(self, plan, existing, elsewhere) -> tuple[Checked, list[RowError]]:
        errors = []
        first = plan.rows[0]
        town = plan.town or self.scope.town or self.directory.default_town()
        if town is None:
            errors.append(self._error(plan, first, "town", _("is required")))
        elif self.scope.town and town != self.scope.town:
            reason = _("is not %(town)s, the town being imported", town=self.scope.town)
            errors.append(self._error(plan, first, "town", reason))
        elif not self.scope.allows(town, plan.village):
            errors.append(self._error(plan, first, "village", _("is outside your villages")))
        if existing is not None and self.scope.restricted:
            place = self.directory.village_places.get(existing.village_id)
            if place is None or not self.scope.allows(*place):
                reason = _("is used by a household outside your scope")
                errors.append(self._error(plan, first, "code", reason))
        errors += self._check_id_numbers(plan, elsewhere)
        cadres = self._check_cadres(plan, town, errors) if town else None
        return Checked(plan, town, cadres, existing), errors

    def _check_id_numbers(self, plan: HouseholdPlan, elsewhere: dict[str, str]) -> list:
        errors = []
        for member in plan.members:
            code, row = self.seen_ids.setdefault(member.id_number, (plan.code, member.row))
            if code != plan.code:
                reason = _("already appears at row %(row)s", row=row)
                errors.append(self._error(plan, member.row, "id_number", reason))
            elif member.id_number in elsewhere:
                reason = (
                    _("is registered in another household")
                    if self.scope.restricted
                    else _("is registered in household %(code)s", code=elsewhere[member.id_number])
                )
                errors.append(self._error(plan, member.row, "id_number", reason))
        return errors

    def _check_cadres(self, plan, town, errors) -> list[int | NewCadre] | None:
        if plan.cadres is None:
            return None
        found = []
        for ref in plan.cadres:
            try:
                found.append(self.directory.find_cadre(town, ref, not self.scope.restricted))
            except RowProblem as exc:
                name = "cadre_phone" if ref.phone and "cadre_phone" in self.labels else "cadre_name"
                errors.append(self._error(plan, ref.row, name, exc.reason))
        return found

    # -- towns, villages, cadres --------------------------------------------------------------

    def _create_references(self, checked: list[Checked], work: ChunkWork) -> None:
        """New towns, then villages, then cadres: one flush for each kind, not one per row."""
        towns = [
            Town(name=name)
            for name in dict.fromkeys(c.town for c in checked)
            if name not in self.directory.towns
        ]
        self._add_all(towns)
        for town in towns:
            self.directory.towns[town.name] = town.id
            work.audit("create", "town", town.id, after={"name": town.name})
        work.tally["towns_created"] += len(towns)

        places = [
            p
            for p in dict.fromkeys((c.town, c.plan.village) for c in checked)
            if p not in self.directory.villages
        ]
        villages = [Village(town_id=self.directory.towns[t], name=n) for t, n in places]
        self._add_all(villages)
        for (town, name), village in zip(places, villages, strict=True):
            self.directory.add_village(town, name, village.id)
            work.audit("create", "village", village.id, after={"name": name, "town": town})
        work.tally["villages_created"] += len(villages)

        needed = {c for item in checked for c in item.cadres or () if isinstance(c, NewCadre)}
        new = [c for c in self.directory.pending.values() if c in needed]
        self.directory.pending.clear()  # not created when only refused households named them
        # No password: these accounts cannot sign in until an admin runs reset-password.
        users = [
            User(
                username=c.phone,
                display_name=c.name,
                phone=c.phone,
                role="cadre",
                town_id=self.directory.towns[c.town],
            )
            for c in new
        ]
        self._add_all(users)
        for cadre, user in zip(new, users, strict=True):
            self.directory.add_user(
                user.id, cadre.phone, "cadre", cadre.town, cadre.name, cadre.phone
            )
            after = {"username": cadre.phone, "role": "cadre", "display_name": cadre.name}
            work.audit("create", "user", user.id, after=after)
        work.tally["cadres_created"] += len(users)

    def _add_all(self, rows: list) -> None:
        if not rows:
            return
        if self.report.dry_run:
            for row in rows:
                row.id = next(self._stand_in_ids)
            return
        db.session.add_all(rows)
        db.session.flush()

    def _cadre_ids(self, item: Checked) -> list[int] | None:
        if item.cadres is None:
            return None
        ids = []
        for cadre in item.cadres:
            if isinstance(cadre, NewCadre):
                cadre = self.directory.find_cadre(cadre.town, _ref(cadre), True)
            if cadre not in ids:
                ids.append(cadre)
        return ids

    # -- households ---------------------------------------------------------------------------

    def _write_household(self, item: Checked, work: ChunkWork) -> None:
        village_id = self.directory.villages[(item.town, item.plan.village)]
        cadre_ids = self._cadre_ids(item)
        if item.existing is None:
            work.new_households.append((item.plan, village_id, cadre_ids or []))
        else:
            self._update_household(item.plan, item.existing, village_id, cadre_ids, work)

    def _member_values(self, member, position: int) -> dict:
        values = {name: getattr(member, name) for name in MEMBER_FIELDS if name != "position"}
        values["position"] = position
        for name in self.optional_member_fields:
            values[name] = getattr(member, name)
        return values | {"id_number": member.id_number}

    def _insert_households(self, work: ChunkWork) -> None:
        """New households in bulk: an INSERT each for households, members and assignments."""
        if not work.new_households:
            return
        rows = [
            {
                "code": plan.code,
                "village_id": village_id,
                "head_name": plan.head_name,
                "klass": plan.klass,
                "phone": plan.phone,
                "entered_on": self.today,
            }
            for plan, village_id, _cadres in work.new_households
        ]
        if self.report.dry_run:
            ids = [next(self._stand_in_ids) for _row in rows]
        else:
            returning = insert(Household).returning(Household.id, sort_by_parameter_order=True)
            ids = db.session.scalars(returning, rows).all()
        members, assignments, measures = [], [], []
        for household_id, row, (plan, _village, cadre_ids) in zip(
            ids, rows, work.new_households, strict=True
        ):
            values = [self._member_values(m, position) for position, m in enumerate(plan.members)]
            members += [v | {"household_id": household_id} for v in values]
            assignments += [{"household_id": household_id, "cadre_id": c} for c in cadre_ids]
            kinds = plan.measures or []
            measures += [self._measure_values(household_id, kind) for kind in kinds]
            after = row | {
                "entered_on": self.today.isoformat(),
                "members": [_masked(v) for v in values],
                "cadre_ids": cadre_ids,
                "measures": kinds,
            }
            work.audit("create", "household", household_id, after=after)
        if not self.report.dry_run:
            db.session.execute(insert(Member), members)
            if assignments:
                db.session.execute(insert(Assignment), assignments)
            if measures:
                db.session.execute(insert(SupportMeasure), measures)
            # Bulk INSERTs pass the unit of work by: tell the change sequence phones pull from.
            changes.mark(db.session, ids)
        work.tally["households_created"] += len(rows)
        work.tally["members_created"] += len(members)
        work.tally["assignments_started"] += len(assignments)
        work.tally["measures_started"] += len(measures)

    def _measure_values(self, household_id: int | None, kind: str) -> dict:
        return {
            "household_id": household_id,
            "kind": kind,
            "started_on": self.today,
            "created_by_id": self.actor.id if self.actor is not None else None,
        }

    def _update_household(self, plan, household, village_id, cadre_ids, work) -> None:
        values = {"village_id": village_id, "head_name": plan.head_name, "klass": plan.klass}
        if "phone" in self.labels:
            values["phone"] = plan.phone
        placed = {"klass": household.klass, "village_id": household.village_id}
        changed = _apply(household, values, "household", household.id, work)
        changed |= self._update_members(plan, household, work)
        if cadre_ids is not None:
            changed |= self._update_assignments(household, cadre_ids, work)
        if plan.measures is not None:
            changed |= self._update_measures(household, plan.measures, work)
        if changed:
            household.version += 1
        if changed and not self.report.dry_run:
            # Class history and month counts, as for an edit in the app.
            coverage.household_changed(household, placed, self.reason, self.actor)
        work.tally["households_updated" if changed else "households_unchanged"] += 1

    def _update_members(self, plan, household: Household, work: ChunkWork) -> bool:
        current = {m.id_number: m for m in household.members}
        changed = False
        for position, planned in enumerate(plan.members):
            values = self._member_values(planned, position)
            member = current.pop(planned.id_number, None)
            if member is None:
                member = Member(**values)
                household.members.append(member)
                work.audit("create", "member", member, after=member_snapshot(member))
                work.tally["members_created"] += 1
                changed = True
            elif _apply(member, values, "member", member.id, work, masked=True):
                work.tally["members_updated"] += 1
                changed = True
        for member in current.values():
            work.audit("delete", "member", member.id, before=member_snapshot(member))
            household.members.remove(member)
            work.tally["members_removed"] += 1
            changed = True
        return changed

    def _update_assignments(self, household: Household, cadre_ids, work: ChunkWork) -> bool:
        active = {a.cadre_id: a for a in household.assignments if a.ended_at is None}
        changed = False
        for cadre_id, assignment in active.items():
            if cadre_id not in cadre_ids:
                assignment.ended_at = utcnow()
                work.audit("unassign", "household", household.id, before={"cadre_id": cadre_id})
                work.tally["assignments_ended"] += 1
                changed = True
        for cadre_id in cadre_ids:
            if cadre_id not in active:
                household.assignments.append(Assignment(cadre_id=cadre_id))
                work.audit("assign", "household", household.id, after={"cadre_id": cadre_id})
                work.tally["assignments_started"] += 1
                changed = True
        return changed

    def _update_measures(self, household: Household, kinds: list[str], work: ChunkWork) -> bool:
        """The measures in force become exactly those listed: the others end today."""
        active = {m.kind: m for m in household.measures if m.ended_on is None}
        changed = False
        for kind, measure in active.items():
            if kind not in kinds:
                measure.ended_on = self.today
                after = {"kind": kind, "ended_on": self.today.isoformat()}
                work.audit("update", "support_measure", measure.id, after=after)
                work.tally["measures_ended"] += 1
                changed = True
        for kind in kinds:
            if kind not in active:
                measure = SupportMeasure(**self._measure_values(household.id, kind))
                household.measures.append(measure)
                after = {"kind": kind, "household_id": household.id}
                work.audit("create", "support_measure", measure, after=after)
                work.tally["measures_started"] += 1
                changed = True
        return changed


@contextmanager
def _planned_afresh():
    """No server-side prepared statements while a chunk is written (psycopg on PostgreSQL).

    psycopg prepares a statement after five runs, and PostgreSQL may then keep a generic plan
    made while the import was still filling the tables: re-importing 60,000 households in the
    same connection spent 220 s in the household lookup, against 15 s planned afresh.
    """
    connection = db.session.connection().connection.driver_connection
    if not hasattr(connection, "prepare_threshold"):
        yield
        return
    before, connection.prepare_threshold = connection.prepare_threshold, None
    try:
        yield
    finally:
        connection.prepare_threshold = before


def _apply(row, values: dict, entity: str, entity_id: int, work: ChunkWork, masked=False) -> bool:
    """Set the values that differ; audit them (members as masked snapshots)."""
    changed = {name: value for name, value in values.items() if getattr(row, name) != value}
    if not changed:
        return False
    before = {name: getattr(row, name) for name in changed}
    for name, value in changed.items():
        setattr(row, name, value)
    if masked:
        before["id_number"] = member_snapshot(row)["id_number"]
        changed = {**changed, "id_number": before["id_number"]}
    work.audit("update", entity, entity_id, before=before, after=changed)
    return True


def _masked(values: dict) -> dict:
    """A new member as the audit log keeps it: the registry's fields, the ID number masked."""
    masked = {name: values.get(name) for name in AUDITED_MEMBER_FIELDS}
    return masked | {"id_number": idcard.mask(values["id_number"])}


def _ref(cadre: NewCadre) -> CadreRef:
    return CadreRef(0, cadre.name, cadre.phone)
