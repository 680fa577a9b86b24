"""Towns, villages and cadre accounts an import refers to, and where an importer may write.

Loaded once per import as plain values (not ORM objects), so they survive each chunk's commit.
"""

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _
from sqlalchemy import select

from .. import access
from ..extensions import db
from ..models import Town, User, Village
from .errors import ImportFileError, RowProblem
from .validation import CadreRef


@dataclass
class Scope:
    """Where an import may write: a fixed town or one per row, perhaps only some villages."""

    town: str | None  # None: each row's 镇 says
    villages: set[str] | None = None  # a village supervisor's villages
    restricted: bool = False  # a supervisor: existing households must lie in scope too
    may_create_towns: bool = True

    def allows(self, town: str, village: str) -> bool:
        in_town = self.town is None or town == self.town
        return in_town and (self.villages is None or village in self.villages)


def scope_for(actor: User | None, town_name: str | None) -> Scope:
    if actor is None or actor.role == "admin":
        return Scope(town=town_name)
    if not access.can_edit_registry(actor) or actor.town is None:
        raise ImportFileError(_("Only administrators and supervisors may import the registry."))
    if town_name and town_name != actor.town.name:
        raise ImportFileError(
            _("You may only import into your own town, %(town)s.", town=actor.town.name)
        )
    # A village committee writes only to its villages, the ones server/access.py shows it.
    villages = None
    if actor.villages:
        villages = {v.name for v in db.session.scalars(access.villages(actor))}
    return Scope(town=actor.town.name, villages=villages, restricted=True, may_create_towns=False)


@dataclass(frozen=True)
class NewCadre:
    town: str
    name: str
    phone: str


@dataclass
class Directory:
    towns: dict[str, int] = field(default_factory=dict)
    villages: dict[tuple[str, str], int] = field(default_factory=dict)
    village_places: dict[int, tuple[str, str]] = field(default_factory=dict)
    # Every account with a phone: phone -> [(user id, role, town name)].
    phones: dict[str, list[tuple[int, str, str | None]]] = field(default_factory=dict)
    # Cadres by (town, display name) -> [(user id, phone)].
    cadre_names: dict[tuple[str, str], list[tuple[int, str | None]]] = field(default_factory=dict)
    usernames: set[str] = field(default_factory=set)
    # Cadres a chunk will create, by phone: two rows naming one new phone mean one account.
    pending: dict[str, NewCadre] = field(default_factory=dict)

    @classmethod
    def load(cls) -> "Directory":
        directory = cls()
        town_names = {}
        for town_id, name in db.session.execute(select(Town.id, Town.name)):
            directory.towns[name] = town_id
            town_names[town_id] = name
        for village_id, town_id, name in db.session.execute(
            select(Village.id, Village.town_id, Village.name)
        ):
            directory.add_village(town_names[town_id], name, village_id)
        users = select(
            User.id, User.username, User.role, User.town_id, User.display_name, User.phone
        )
        for user_id, username, role, town_id, name, phone in db.session.execute(users):
            directory.add_user(user_id, username, role, town_names.get(town_id), name, phone)
        return directory

    def add_village(self, town: str, name: str, village_id: int) -> None:
        self.villages[(town, name)] = village_id
        self.village_places[village_id] = (town, name)

    def add_user(self, user_id, username, role, town, name, phone) -> None:
        self.usernames.add(username.lower())
        if phone:
            self.phones.setdefault(phone, []).append((user_id, role, town))
        if role == "cadre" and town:
            self.cadre_names.setdefault((town, name), []).append((user_id, phone))

    def default_town(self) -> str | None:
        return next(iter(self.towns)) if len(self.towns) == 1 else None

    def find_cadre(self, town: str, ref: CadreRef, any_town: bool = False) -> int | NewCadre:
        """The cadre's account id by phone, else by name in the town, else a cadre to create.

        `any_town`: a county import, where one cadre may serve households in several towns,
        so a phone finds the cadre whichever town their account belongs to. A town's own
        import keeps to the town's cadres, as assigning in the app does."""
        if ref.phone:
            found = self._cadre_by_phone(town, ref.phone, any_town)
            if found is not None:
                return found
        named = self.cadre_names.get((town, ref.name), []) if ref.name else []
        if ref.phone:
            named = [(user_id, phone) for user_id, phone in named if not phone]
        if len(named) == 1:
            return named[0][0]
        if len(named) > 1:
            raise RowProblem(_("several cadres share this name: give the cadre's phone"))
        if not ref.phone:
            raise RowProblem(_("a new cadre needs a phone number"))
        if not ref.name:
            raise RowProblem(_("a new cadre needs a name"))
        return self.pending.setdefault(ref.phone, NewCadre(town, ref.name, ref.phone))

    def _cadre_by_phone(self, town: str, phone: str, any_town: bool) -> int | NewCadre | None:
        accounts = self.phones.get(phone, [])
        for user_id, role, user_town in accounts:
            if role == "cadre" and (user_town == town or any_town):
                return user_id
        pending = self.pending.get(phone)
        if pending is not None and (pending.town == town or any_town):
            return pending
        if pending is not None or any(role == "cadre" for _id, role, _town in accounts):
            raise RowProblem(_("this phone is a cadre's of another town"))
        if accounts or phone.lower() in self.usernames:
            raise RowProblem(_("this phone belongs to another account"))
        return None


def check_town_choice(scope: Scope, directory: Directory, has_town_column: bool) -> Scope:
    """Settle the town when the file does not name one per row; refuse an unknown one."""
    if scope.town is None and not has_town_column:
        town = directory.default_town()
        if town is None:
            raise ImportFileError(
                _(
                    "Name the town to import into: the database holds %(count)s towns.",
                    count=len(directory.towns),
                )
            )
        scope.town = town
    if scope.town and scope.town not in directory.towns and not scope.may_create_towns:
        raise ImportFileError(_("No town named %(town)s.", town=scope.town))
    return scope
