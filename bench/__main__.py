"""`python -m bench [--only NAME] [options]`: run the benchmarks and print `RESULT name=value`.

The benchmarks never use the developer's database. Without DATABASE_URL they use a database
of their own: `observatoire_bench` on the local PostgreSQL when it answers at
127.0.0.1:5432 (created when missing), else a SQLite file in the temporary folder. Both are
kept between runs, so that the generated data can be reused.
"""

import argparse
import importlib
import os
import sys
import tempfile
from pathlib import Path

from bench import BENCHMARKS, create_postgres_database, format_result

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432"
BENCH_DATABASE = "observatoire_bench"


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "observatory.settings")
    own_database = not os.environ.get("DATABASE_URL")
    if own_database:
        os.environ["DATABASE_URL"] = bench_database_url()
    # Settings read DATABASE_URL once, in django.setup(), and the benchmarks import models:
    # both come before parsing the arguments the benchmarks add.
    import django

    django.setup()
    modules = {name: importlib.import_module(f"bench.{name}") for name in BENCHMARKS}
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=BENCHMARKS, help="run this benchmark only")
    parser.add_argument("--repeat", type=int, default=3, help="measures of each duration (median; 3)")
    for module in modules.values():
        if hasattr(module, "add_arguments"):
            module.add_arguments(parser)
    args = parser.parse_args(argv)

    from django.core.management import call_command
    from django.db import connection

    if own_database and connection.vendor == "postgresql":
        create_postgres_database(os.environ["DATABASE_URL"])
    print(f"backend: {connection.vendor} ({_describe(connection)})", flush=True)
    call_command("migrate", verbosity=0, interactive=False)

    for name, module in modules.items():
        if args.only and name != args.only:
            continue
        print(f"== {name}", flush=True)
        for result, value in module.run(args).items():
            print(format_result(result, value), flush=True)
    return 0


def bench_database_url() -> str:
    """The benchmarks' own database: PostgreSQL when the local server answers, else SQLite."""
    try:
        import psycopg

        psycopg.connect(f"{LOCAL_POSTGRES}/postgres", connect_timeout=3).close()
        return f"{LOCAL_POSTGRES}/{BENCH_DATABASE}"
    except Exception as exc:  # no server, no driver: SQLite
        print(f"PostgreSQL unavailable at 127.0.0.1:5432 ({type(exc).__name__}): using SQLite", file=sys.stderr)
        return f"sqlite:///{Path(tempfile.gettempdir()) / 'observatoire_bench.sqlite3'}"


def _describe(connection) -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return str(settings["NAME"])
    return f"{settings.get('HOST') or 'localhost'}:{settings.get('PORT') or 5432}/{settings['NAME']}"


if __name__ == "__main__":
    sys.exit(main())
