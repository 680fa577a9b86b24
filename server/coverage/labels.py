"""Words shown on the pages for codes stored in the data, and a flag's reason in a sentence."""

from flask_babel import gettext as _

from .periods import local_zone


def flag_kind(kind: str) -> str:
    return {
        "no_location": _("No location"),
        "far_from_home": _("Far from the household"),
        "bad_accuracy": _("Implausible accuracy"),
        "device_time": _("Phone clock off"),
        "duplicate_photo": _("Same photo at another household"),
        "implausible_speed": _("Implausible travel speed"),
    }.get(kind, kind)


def flag_reason(kind: str, detail: dict) -> str:
    """The reason, with the figures that triggered it."""
    d = detail or {}
    if kind == "no_location":
        return _("The visit was saved without a location.")
    if kind == "far_from_home":
        where = (
            _("the position set for the household")
            if d.get("reference") == "household"
            else _("the median of %(n)s earlier visits", n=d.get("fixes"))
        )
        return _(
            "%(distance)s m from %(where)s (limit %(limit)s m).",
            distance=d.get("distance_m"),
            where=where,
            limit=d.get("threshold_m"),
        )
    if kind == "bad_accuracy":
        return _("Location accuracy %(accuracy)s m.", accuracy=d.get("accuracy_m"))
    if kind == "device_time":
        if d.get("reason") == "suspect":
            return _("The phone's clock was marked as wrong when the visit arrived.")
        minutes = round((d.get("seconds") or 0) / 60)
        if d.get("reason") == "ahead":
            return _(
                "Visit time %(minutes)s minutes after the server received it.", minutes=minutes
            )
        return _("Visit time %(minutes)s minutes before it was received online.", minutes=minutes)
    if kind == "duplicate_photo":
        count = len(d.get("other_household_ids") or [])
        return _(
            "The same photo is attached to visits of %(count)s other household(s).", count=count
        )
    if kind == "implausible_speed":
        return _(
            "%(km)s km from another visit %(minutes)s minutes apart (%(speed)s km/h).",
            km=round((d.get("distance_m") or 0) / 1000, 1),
            minutes=d.get("minutes"),
            speed=d.get("speed_kmh"),
        )
    return ""


def sudden_event(code: str | None) -> str:
    return {
        "illness": _("Illness"),
        "disaster": _("Disaster"),
        "accident": _("Accident"),
        "other": _("Other event"),
        "worse": _("Situation worse"),
        "conflict": _("Data conflict"),
        "report": _("Household's own report"),
    }.get(code or "", code or "")


def situation_key(key: str) -> str:
    return {
        "health": _("Health"),
        "income": _("Income"),
        "housing": _("Housing"),
        "schooling": _("Schooling"),
    }.get(key, key)


def situation_value(value: str) -> str:
    return {"same": _("same"), "better": _("better"), "worse": _("worse")}.get(value, value)


def measure_kind(kind: str) -> str:
    return {
        "skills_training": _("Skills training"),
        "microcredit": _("Microcredit"),
        "industry_project": _("Industry project"),
        "public_welfare_post": _("Public-welfare post"),
        "employment": _("Job support"),
        "medical_insurance": _("Medical insurance subsidy"),
        "dividend": _("Project dividend"),
        "temporary_relief": _("Temporary relief"),
        "medical_relief": _("Medical relief"),
        "dibao": _("Minimum living allowance (dibao)"),
        "tekun": _("Extreme-poverty support"),
        "disability_cert": _("Disability allowance"),
        "nursing_home": _("Nursing home care"),
        "care_service": _("Purchased care service"),
        "other": _("Other measure"),
    }.get(kind, kind)


def crop_name(crop) -> str:
    names = {"kiwifruit": _("Kiwifruit"), "tobacco": _("Tobacco")}
    return names.get(crop.crop) or crop.crop_name or _("Other crop")


def local_time(moment, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(local_zone()).strftime(pattern) if moment else "—"


def colon(label) -> str:
    """A label before its value: "需求：" in Chinese, "Needs: " in English."""
    return _("%(label)s: ", label=label)


def percent(value: float | None) -> str:
    return f"{value * 100:.0f}%" if value is not None else "—"


def yuan(fen: int | None) -> str:
    return f"{fen / 100:,.2f}" if fen is not None else "—"


def period_title(period) -> str:
    if period.month:
        return _("%(year)s-%(month)02d", year=period.year, month=period.month)
    return _("%(year)s", year=period.year)


TEMPLATE_HELPERS = {
    "flag_kind": flag_kind,
    "flag_reason": flag_reason,
    "sudden_event": sudden_event,
    "situation_key": situation_key,
    "situation_value": situation_value,
    "crop_name": crop_name,
    "measure_kind": measure_kind,
    "period_title": period_title,
}
TEMPLATE_FILTERS = {"local_time": local_time, "percent": percent, "yuan": yuan, "colon": colon}
