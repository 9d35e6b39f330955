"""What every importer of the project returns and raises.

It lives in `skills`, the lowest app, so that every other app can use it without importing
upwards.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RowError:
    """One rejected row: the file's line (the header is line 1) and what is wrong with it."""

    line: int
    message: str
    source: str = ""

    def __str__(self):
        where = f"{self.source}, ligne {self.line}" if self.source else f"ligne {self.line}"
        return f"{where} : {self.message}"


@dataclass
class ImportReport:
    """Counts of one load. `rejected` rows are listed in `errors`."""

    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.errors)

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": [str(e) for e in self.errors],
        }

    def __str__(self):
        return (
            f"{self.source} : {self.created} créé(s), {self.updated} mis à jour, "
            f"{self.unchanged} inchangé(s), {self.rejected} rejeté(s)"
        )


class ImportFailed(Exception):
    """A file that cannot be loaded whole. Nothing was written; `errors` say which lines."""

    def __init__(self, errors: list[RowError], source: str = ""):
        self.errors = list(errors)
        self.source = source
        shown = "\n".join(str(e) for e in self.errors[:20])
        more = f"\n… et {len(self.errors) - 20} autre(s) erreur(s)" if len(self.errors) > 20 else ""
        super().__init__(f"{source or 'fichier'} refusé, rien n'a été écrit :\n{shown}{more}")
