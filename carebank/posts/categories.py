"""The fixed care taxonomy: slugs are stored, names are translated when shown."""
from flask_babel import lazy_gettext as _l

CATEGORIES = {
    "companionship": _l("Companionship"),
    "meals": _l("Meals"),
    "errands": _l("Errands and shopping"),
    "escort": _l("Escort and transport to appointments"),
    "housework": _l("Housework"),
    "repairs": _l("Repairs"),
    "gardening": _l("Gardening"),
    "childcare": _l("Childcare"),
    "tech_help": _l("Tech help"),
    "learning": _l("Learning and tutoring"),
    "paperwork": _l("Paperwork"),
}


def category_name(slug: str) -> str:
    """The translated name of a category, or the slug itself if it is unknown."""
    return str(CATEGORIES.get(slug, slug))


def category_choices() -> list[tuple[str, str]]:
    return [(slug, str(name)) for slug, name in CATEGORIES.items()]
