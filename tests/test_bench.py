"""The benchmark's data generator and result lines, on tiny numbers (the 1M run is `make bench`)."""

import json
import math

import numpy as np
import pytest
from django.db import connection

from bench import format_result
from bench import grid as bench_grid
from companies.models import Company, Establishment, JobPosition, SizeBand
from companies.validators import is_valid_siren, is_valid_siret, luhn_complete
from observatory import services
from observatory.models import GridCell, GridRun, Lens, Methodology, OccupationScore
from observatory.reference import BUILTIN_REFERENCE_DIR, load_reference
from tests.companies.factories import CompanyFactory


@pytest.fixture
def reference(db):
    load_reference(BUILTIN_REFERENCE_DIR)


def test_result_lines_are_name_equals_number():
    assert format_result("grid_seconds", 12.34567) == "RESULT grid_seconds=12.346"
    assert format_result("grid_cells", 1_962_191) == "RESULT grid_cells=1962191"
    assert format_result("grid_vs_floor", 3.0) == "RESULT grid_vs_floor=3"
    assert format_result("grid_load_seconds", math.nan) == "RESULT grid_load_seconds=nan"
    for name in ("", "two words", "a=b"):
        with pytest.raises(ValueError):
            format_result(name, 1)
    with pytest.raises(TypeError):
        format_result("flag", True)


def test_vectorised_luhn_and_percentages_agree_with_the_scalar_versions():
    prefixes = np.array([0, 1, 12_345_678, 99_999_999, 73_282_932])
    expected = [luhn_complete(f"{p:08d}") for p in prefixes]
    assert [f"{n:09d}" for n in bench_grid.luhn_complete_array(prefixes, 8)] == expected

    shares = np.random.default_rng(0).dirichlet(np.ones(5), size=1000)
    percent = bench_grid.whole_percentages(shares)
    assert (percent.sum(axis=1) == 100).all()
    assert (np.abs(percent - shares * 100) < 1).all()


def test_generation_writes_valid_rows_and_a_grid_computes_over_them(reference):
    counts = bench_grid.generate(companies=60, establishments=200, positions=2000, seed=1)

    assert counts["companies"] == Company.objects.count() == 60
    assert counts["establishments"] == Establishment.objects.count() == 200
    assert counts["positions"] == JobPosition.objects.count() == 2000
    assert Company.objects.filter(establishments__isnull=True).count() == 0
    for siret, siren in Establishment.objects.values_list("siret", "company__siren"):
        assert is_valid_siren(siren) and siren.startswith(bench_grid.BENCH_SIREN_PREFIX)
        assert siret.startswith(siren) and is_valid_siret(siret)
    assert set(Establishment.objects.values_list("size_band", flat=True)) <= set(SizeBand.values)
    for shares in JobPosition.objects.values_list("rc", "rm", "nra", "nri", "nrm"):
        assert sum(shares) == 100
    assert Establishment.objects.filter(job_positions__isnull=True).count() == 0

    # New rows get ids after the generated ones (the sequences were moved past them).
    assert Company.objects.create(siren="010000009", name="Après").pk == 61

    run = services.grid_run_compute(services.grid_run_create().pk)
    assert run.status == GridRun.Status.READY
    total = GridCell.objects.get(
        run=run, territory_level="all", sector_level="all", occupation_level="all", size_band="all"
    )
    assert total.employees == counts["employees"]
    assert total.establishments == 200

    if connection.vendor == "postgresql":
        floor = bench_grid.measure_cube_floor(run_id=run.pk)
        assert floor["rows"] > 1


def test_the_same_seed_is_recognised_and_another_is_not(reference):
    bench_grid.generate(companies=30, establishments=100, positions=300, seed=5)
    assert bench_grid._holds_draw(companies=30, establishments=100, positions=300, seed=5)
    assert not bench_grid._holds_draw(companies=30, establishments=100, positions=300, seed=6)
    assert not bench_grid._holds_draw(companies=30, establishments=100, positions=301, seed=5)


def test_a_database_with_other_companies_is_refused(db):
    CompanyFactory(siren="732829320")
    with pytest.raises(bench_grid.BenchRefused):
        bench_grid.ensure_data(companies=3, establishments=10, positions=20, seed=1)


def test_the_pipeline_writes_a_ready_run_without_complementary_secrecy(reference, capsys):
    """The grid's aggregation as the floor is compared with: the cells written with their
    primary flags only, the scores beside them for the floor to read."""
    counts = bench_grid.generate(companies=30, establishments=100, positions=600, seed=2)
    bench_grid.pipeline_child()
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    run = GridRun.objects.get(pk=report["run_id"])
    assert run.status == GridRun.Status.READY
    assert set(report["timings"]) == set(bench_grid.PIPELINE_STEPS)
    assert report["seconds"] == pytest.approx(sum(report["timings"].values()))
    assert GridCell.objects.filter(run=run).count() == report["cells"] > 0
    assert not GridCell.objects.filter(run=run, secret_reason="secondary").exists()
    total = GridCell.objects.get(
        run=run, territory_level="all", sector_level="all", occupation_level="all", size_band="all"
    )
    assert total.employees == counts["employees"]
    assert OccupationScore.objects.filter(run=run).exists()


def test_the_size_plan_makes_a_version_and_the_pipeline_writes_no_epci_crossing(reference, capsys):
    bench_grid.generate(companies=30, establishments=100, positions=600, seed=2)
    before = Methodology.objects.current(Lens.DEFAULT)
    bench_grid.use_epci_detail("size")
    current = Methodology.objects.current(Lens.DEFAULT)
    assert (current.version, current.epci_detail) == (before.version + 1, "size")
    bench_grid.use_epci_detail("size")  # already the plan: no new version
    assert Methodology.objects.current(Lens.DEFAULT).pk == current.pk

    bench_grid.pipeline_child()
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    epci = GridCell.objects.filter(run_id=report["run_id"], territory_level="epci")
    assert epci.filter(sector_level="all", occupation_level="all").exists()
    assert not epci.exclude(sector_level="all", occupation_level="all").exists()
    assert GridCell.objects.filter(
        run_id=report["run_id"], territory_level="departement", occupation_level="fiche"
    ).exists()
