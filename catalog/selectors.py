from django.db.models import Q, QuerySet

from catalog.models import Skill


def skills_search(*, query: str, limit: int = 20) -> list[Skill]:
    """Skills whose name or a synonym contains `query` (case-insensitive), best matches first.

    A name that starts with the query ranks before one that merely contains it, so typing "py"
    offers Python before "SPSS Python plugin"-like names.
    """
    query = query.strip()
    if not query:
        return []
    matches: QuerySet[Skill] = (
        Skill.objects.filter(Q(name__icontains=query) | Q(synonyms__name__icontains=query))
        .select_related("category")
        .distinct()
    )
    lowered = query.lower()
    ranked = sorted(
        matches[: limit * 5],
        key=lambda s: (not s.name.lower().startswith(lowered), len(s.name), s.name.lower()),
    )
    return ranked[:limit]
