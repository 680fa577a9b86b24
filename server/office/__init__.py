"""The office site: every page of the town office (镇扶贫办) and the village committees
(村两委) under /office/, with one layout, one navigation and one access check.

The pages are thin views over the feature modules (coverage, selfreport, importer, ...),
which hold the rules and have no pages of their own. A page module registers its views on
`bp` with `@office_page` and, when it belongs in the navigation, adds an entry to `NAV`.
"""

from . import (  # noqa: F401 (their pages join bp)
    accounts,
    audit,
    cards,
    conflicts,
    coverage,
    exports,
    households,
    imports,
    measures,
    reports,
    review,
    town_settings,
)
from .redirects import bp as redirects_bp
from .site import NAV, NavEntry, bp, office_page

__all__ = ["NAV", "NavEntry", "bp", "office_page", "redirects_bp"]
