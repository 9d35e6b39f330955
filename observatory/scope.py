"""The filters every observatory page shares — territory, sector, occupation, size band and
lens — read from the query string once, validated by the grid's FilterSet, and turned into the
coordinates of the cells a page reads and the query string its links carry.

The grid page reads a section with what it contains (its divisions as well); the overview, the
map and the ranking read one cell per member, so for them a chosen member is an exact
coordinate: `sector=section:C` is the cells of section C, `sector` left out is the cells of
every sector together (`sector_level="all"`).
"""

from dataclasses import dataclass

from django.http import QueryDict

from .filters import GridCellFilterSet, split_member
from .models import GridCell

# The parameters the pages share, in the order their links write them.
SCOPE_PARAMS = ("territory", "sector", "occupation", "size_band")


@dataclass(frozen=True)
class Scope:
    """One member per dimension: `all` (with an empty code) or a level and its code."""

    territory_level: str = "all"
    territory_code: str = ""
    sector_level: str = "all"
    sector_code: str = ""
    occupation_level: str = "all"
    occupation_code: str = ""
    size_band: str = "all"

    def cells(self, **overrides) -> dict:
        """The coordinates to filter GridCell on; `overrides` replace some of them (a page
        that ranks fiches asks occupation_level="fiche" and no occupation code)."""
        coordinates = {
            "territory_level": self.territory_level,
            "territory_code": self.territory_code,
            "sector_level": self.sector_level,
            "sector_code": self.sector_code,
            "occupation_level": self.occupation_level,
            "occupation_code": self.occupation_code,
            "size_band": self.size_band,
        }
        return {**coordinates, **overrides}

    def params(self) -> dict[str, str]:
        """The scope as the pages' query string writes it, defaults left out."""
        params = {
            "territory": _member(self.territory_level, self.territory_code),
            "sector": _member(self.sector_level, self.sector_code),
            "occupation": _member(self.occupation_level, self.occupation_code),
            "size_band": self.size_band,
        }
        return {name: value for name, value in params.items() if value and value != "all"}

    def key(self) -> str:
        """A short, unambiguous text for cache keys."""
        return "|".join(f"{name}={value}" for name, value in sorted(self.params().items()))

    @property
    def is_whole(self) -> bool:
        return self == Scope()


def _member(level: str, code: str) -> str:
    return "all" if level == "all" else f"{level}:{code}"


def read_scope(query: QueryDict) -> tuple[Scope, dict]:
    """The scope of a query string, and the form errors of the values it refuses ({} when
    every value is valid; the scope then holds the valid ones only). Values are checked
    against the loaded nomenclatures by the grid's FilterSet: an unknown territory, a sector
    or occupation that is not a member, a size band outside the bands are errors."""
    data = {name: query.get(name, "") for name in SCOPE_PARAMS}
    if not any(data.values()):
        return Scope(), {}  # nothing to check: no reference data read
    filterset = GridCellFilterSet(data, queryset=GridCell.objects.none())
    form = filterset.form
    if not form.is_valid():
        return Scope(), dict(form.errors)
    cleaned = form.cleaned_data
    territory_level, territory_code = split_member(cleaned.get("territory") or "all")
    sector_level, sector_code = split_member(cleaned.get("sector") or "all")
    occupation_level, occupation_code = split_member(cleaned.get("occupation") or "all")
    return (
        Scope(
            territory_level=territory_level,
            territory_code=territory_code,
            sector_level=sector_level,
            sector_code=sector_code,
            occupation_level=occupation_level,
            occupation_code=occupation_code,
            size_band=cleaned.get("size_band") or "all",
        ),
        {},
    )


def scope_title(scope: Scope) -> str:
    """« Nord, tous secteurs, toutes tailles »: the scope in words, for a page's headings
    (labels from the cached reference data)."""
    from .selectors import grid_reference, territory_name

    reference = grid_reference()
    parts = [territory_name(scope.territory_level, scope.territory_code, reference)]
    if scope.sector_level == "all":
        parts.append("tous secteurs")
    else:
        label = reference["sector_labels"].get(scope.sector_code, "")
        parts.append(f"secteur {scope.sector_code}" + (f" ({label})" if label else ""))
    if scope.occupation_level != "all":
        label = reference["occupation_labels"].get(scope.occupation_code, "")
        parts.append(f"métiers {scope.occupation_code}" + (f" ({label})" if label else ""))
    parts.append("toutes tailles" if scope.size_band == "all" else f"entreprises de {scope.size_band} salariés")
    return ", ".join(parts)
