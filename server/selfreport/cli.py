"""`flask tokens ...`: issue door-card links for a village from the command line."""

from datetime import date
from pathlib import Path

import click
from flask import current_app, render_template
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from ..extensions import db
from ..models import Household, Town, Village
from . import tokens
from .cards import card_for

tokens_cli = AppGroup("tokens", help="Door-card links for the household self-report page.")


def _village(name: str, town: str | None) -> Village:
    query = select(Village).where(Village.name == name)
    if town:
        query = query.join(Village.town).where(Town.name == town)
    found = list(db.session.scalars(query))
    if not found:
        raise click.ClickException(f"No village named {name!r}.")
    if len(found) > 1:
        raise click.ClickException(f"Several villages are named {name!r}: add --town.")
    return found[0]


@tokens_cli.command("issue")
@click.option("--village", "village_name", required=True, help="Village name, e.g. 城子村.")
@click.option("--town", help="Town name, when the village name is not unique.")
@click.option(
    "--all",
    "reissue_all",
    is_flag=True,
    help="Re-issue every card of the village: the cards now on doors stop working.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the printable card sheet (HTML).",
)
@click.option("--base-url", help="Public address of the site (default: PUBLIC_BASE_URL).")
def issue_tokens(village_name, town, reissue_all, out, base_url):
    """Issue links for the village's households that have no printed card, and write the
    printable sheet. The links exist only in that file: print it, then delete it."""
    base_url = base_url or current_app.config.get("PUBLIC_BASE_URL")
    if not base_url:
        raise click.ClickException("Give --base-url or set ZOUFANG_PUBLIC_BASE_URL.")
    village = _village(village_name, town)
    households = list(
        db.session.scalars(
            select(Household)
            .where(Household.village_id == village.id, Household.active.is_(True))
            .order_by(Household.code)
        )
    )
    if not reissue_all:
        households = [h for h in households if tokens.needs_card(tokens.live_link(h))]
    out = out or Path(f"cards-{village.name}-{date.today():%Y%m%d}.html")
    with current_app.test_request_context(base_url=base_url), force_locale("zh"):
        cards = [card_for(h, tokens.issue(h, None, for_card=True)) for h in households]
        page = render_template(
            "selfreport/card_sheet.html", cards=cards, title=village.name, back="#"
        )
    out.write_text(page, encoding="utf-8")
    out.chmod(0o600)
    db.session.commit()
    click.echo(f"Issued {len(cards)} cards for {village.name}; sheet written to {out}.")
