"""The thin shell every import command shares: run the importer, print the report, and exit
non-zero with the errors when the file is refused."""

from django.core.management.base import BaseCommand, CommandError

from skills.importers.base import ImportFailed


class ImportCommand(BaseCommand):
    def run_import(self, func, *args, **kwargs):
        try:
            reports = func(*args, **kwargs)
        except ImportFailed as exc:
            raise CommandError(str(exc)) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Lecture impossible : {exc}") from exc
        if not isinstance(reports, list | tuple):
            reports = [reports]
        for report in reports:
            self.stdout.write(str(report))
        return reports
