"""The secrecy audit in the run pipeline: every run is audited, a run that fails it is never
made current and the runs page says why; the audit command."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from observatory import services
from observatory.analysis.secrecy import SecrecyAuditFailed, primary_secrecy
from observatory.models import GridCell, GridRun, Lens

pytestmark = pytest.mark.django_db

# Three companies in the Nord, one in the Pas-de-Calais (test_grid_run's hand-worked case).


def _compute(lens=Lens.DEFAULT):
    run = services.grid_run_create(lens=lens)
    return services.grid_run_compute(run.pk)


def _without_protection(cells, min_companies=3, dominance=0.85, **options):
    """Primary secrecy only: what the pipeline would publish with no complementary mask."""
    return primary_secrecy(cells, min_companies, dominance)


def test_every_run_stores_its_audit(hand_worked):
    run = _compute()
    assert run.status == GridRun.Status.READY and run.is_current
    audit = run.audit
    assert audit["passed"] is True
    assert audit["determined_primary"] == 0 and audit["under_protected"] == 0 and audit["skipped"] == 0
    assert audit["primary"] >= 1 and audit["hidden"] == run.stats["secret_cells"]
    # The reader knows the COG: the communes outside any EPCI lie in the Nord and the
    # Pas-de-Calais, so the audit splits their EPCI member into shares of each.
    assert audit["parts"] > 0
    # The protection's cost travels with it: complementary cells with the one-secret rule
    # alone, and in the end.
    assert audit["protection"]["secondary"] == run.stats["secondary_cells"]
    assert audit["protection"]["secondary"] >= audit["protection"]["secondary_one_secret_rule"]
    # Every primary cell proven within the time: no round masked around unproven ones.
    assert audit["protection"]["unproven_rounds"] == 0
    assert "audit" in run.timings


def test_a_run_failing_its_audit_is_not_made_current(hand_worked, monkeypatch):
    good = _compute()
    cells = GridCell.objects.filter(run=good).count()

    # Without the complementary suppression, the Pas-de-Calais (one company) is the région
    # minus the Nord: the audit finds it determined.
    monkeypatch.setattr(services.secrecy, "apply_secrecy", _without_protection)
    failing = services.grid_run_create(lens=Lens.DEFAULT)
    with pytest.raises(SecrecyAuditFailed):
        services.grid_run_compute(failing.pk)

    failing.refresh_from_db()
    good.refresh_from_db()
    assert failing.status == GridRun.Status.FAILED and not failing.is_current
    assert failing.error.startswith("Audit du secret statistique non satisfait")
    assert "calculable(s) exactement" in failing.error
    assert failing.audit["passed"] is False and failing.audit["determined_primary"] >= 1
    assert failing.cells.count() == 0
    assert good.is_current and GridCell.objects.filter(run=good).count() == cells
    assert GridRun.objects.current(Lens.DEFAULT) == good


def test_the_runs_page_says_why_a_run_failed_its_audit(hand_worked, monkeypatch, client, analyst):
    _compute()
    monkeypatch.setattr(services.secrecy, "apply_secrecy", _without_protection)
    failing = services.grid_run_create(lens=Lens.DEFAULT)
    with pytest.raises(SecrecyAuditFailed):
        services.grid_run_compute(failing.pk)

    client.force_login(analyst)
    page = client.get(reverse("observatory:runs")).content.decode()
    assert "Audit du secret statistique non satisfait" in page
    assert "audit-failed" in page
    # A run that passed says so too.
    assert "Audit du secret : satisfait" in page


def test_the_audit_command_prints_results(hand_worked, capsys):
    run = _compute()
    call_command("audit_secrecy")
    out = capsys.readouterr().out
    assert f"RESULT run{run.pk}_passed=1" in out
    assert f"RESULT run{run.pk}_determined_primary=0" in out
    assert "audit satisfait" in out


def test_the_audit_command_fails_on_a_weak_run(hand_worked, capsys):
    run = _compute()
    # Publish the Nord next to the région: the Pas-de-Calais falls out by subtraction.
    GridCell.objects.filter(run=run, secret_reason="secondary").update(secret=False, secret_reason="")
    with pytest.raises(CommandError, match="non satisfait"):
        call_command("audit_secrecy", str(run.pk))
    out = capsys.readouterr().out
    assert f"RESULT run{run.pk}_passed=0" in out


def test_the_audit_command_refuses_an_unknown_run(hand_worked):
    with pytest.raises(CommandError, match="inconnu"):
        call_command("audit_secrecy", "999999")
