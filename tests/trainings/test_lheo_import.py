import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from companies.models import Territory
from skills.importers.base import ImportFailed
from tests.companies.factories import CommuneFactory, DepartementFactory
from tests.skills.factories import CertificationFactory, OccupationFactory, SkillBlockFactory
from tests.trainings.factories import ProviderFactory, TrainingOfferFactory
from trainings.importers.lheo import html_to_text, import_lheo
from trainings.models import CurationEvent, CurationStatus, Provider, Session, TrainingOffer

pytestmark = pytest.mark.django_db

SIRET_A = "78901234500011"
SIRET_B = "41205678900016"


@pytest.fixture
def catalogue_refs():
    """What the fixture file points to: four communes, two fiches, one of its two certifications."""
    refs = {
        "lille": CommuneFactory(code="59350", name="Lille"),
        "valenciennes": CommuneFactory(code="59606", name="Valenciennes"),
        "arras": CommuneFactory(
            code="62041", name="Arras", parent=DepartementFactory(code="62", name="Pas-de-Calais")
        ),
        "laon": CommuneFactory(code="02408", name="Laon", parent=DepartementFactory(code="02", name="Aisne")),
        "m1403": OccupationFactory(code="M1403", label="Études et prospectives socio-économiques"),
        "m1604": OccupationFactory(code="M1604", label="Assistanat de direction"),
    }
    certification = CertificationFactory(code="RNCP37827", title="Data analyst")
    refs["certification"] = certification
    refs["blocks"] = [
        SkillBlockFactory(certification=certification, code="RNCP37827BC01", label="Collecter les données"),
        SkillBlockFactory(certification=certification, code="RNCP37827BC02", label="Analyser les données"),
    ]
    return refs


@pytest.fixture
def fixture_file(fixtures_dir):
    return fixtures_dir / "lheo" / "offres-hdf.xml"


def _counts():
    return (
        Provider.objects.count(),
        TrainingOffer.objects.count(),
        Session.objects.count(),
        CurationEvent.objects.count(),
    )


def _variant(fixture_file, tmp_path, *replacements, name="variant.xml"):
    """The fixture file with `(old, new)` replacements, each of which must occur."""
    text = fixture_file.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(path, needle):
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


# A first import, field by field.


def test_import_creates_providers_offers_and_sessions(catalogue_refs, fixture_file, curator):
    offers_report, providers_report = import_lheo(fixture_file, user=curator)

    assert (offers_report.created, offers_report.updated, offers_report.unchanged, offers_report.rejected) == (
        3,
        0,
        0,
        0,
    )
    assert (providers_report.created, providers_report.updated, providers_report.unchanged) == (2, 0, 0)
    assert offers_report.unknown_certifications == 1  # RS5678 is not in the database
    assert offers_report.unknown_rome_codes == 1  # M1805
    assert offers_report.unknown_communes == 0
    assert offers_report.source == "offres-hdf.xml (offres)"

    first = TrainingOffer.objects.get(lheo_number="HDF-2026-001")
    assert first.title == "Analyste de données et intelligence artificielle"
    # Escaped HTML stored as plain lines: one per paragraph and list item, tags gone.
    assert first.objectives == (
        "Former des analystes capables de préparer et d'exploiter les données de l'entreprise.\n"
        "- Collecter et nettoyer les données\n"
        "- Construire des tableaux de bord"
    )
    assert first.content == "Statistiques, SQL, Python.\nMise en situation en entreprise."
    assert first.provider.siret == SIRET_A
    assert first.certification == catalogue_refs["certification"]
    assert set(first.skill_blocks.values_list("code", flat=True)) == {"RNCP37827BC01", "RNCP37827BC02"}
    assert list(first.occupations.values_list("code", flat=True)) == ["M1403"]
    assert first.formacodes == ["31025", "31094"]
    # The first action gives modality, hours and price: « 1 » is « formation mixte ».
    assert first.modality == TrainingOffer.Modality.BLENDED
    assert first.duration_hours == 399
    assert first.price == Decimal("4950.00")
    assert first.cpf_eligible is True  # a code-CPF in <certification>
    assert first.url == "https://inf-flandres.example/analyste-donnees"
    assert first.status == CurationStatus.SUBMITTED
    assert first.ai_related is True  # tagged after the load: « intelligence artificielle »
    sessions = [
        (s.lheo_number, s.start, s.end, s.commune.code, s.places_left) for s in first.sessions.order_by("lheo_number")
    ]
    assert sessions == [
        ("HDF-2026-001-S1", datetime.date(2026, 9, 14), datetime.date(2027, 3, 15), "59350", None),
        ("HDF-2026-001-S2", datetime.date(2027, 1, 4), datetime.date(2027, 6, 30), "59350", 12),
        # No INSEE code: found by postcode département and name, CEDEX dropped.
        ("HDF-2026-001-S3", datetime.date(2026, 10, 5), datetime.date(2027, 4, 10), "59606", None),
    ]

    second = TrainingOffer.objects.get(lheo_number="HDF-2026-002")
    assert second.certification is None
    assert second.skill_blocks.count() == 0
    assert list(second.occupations.values_list("code", flat=True)) == ["M1604"]
    assert second.content == ""  # « - » means nothing
    assert second.modality == TrainingOffer.Modality.IN_PERSON
    assert second.duration_hours == 350  # 210 h in the centre + 140 h in the company
    assert second.price is None
    assert second.cpf_eligible is False
    assert second.ai_related is False
    # « 20260900 » is September 2026: its first day for a start.
    assert [(s.start, s.end, s.commune.code) for s in second.sessions.all()] == [
        (datetime.date(2026, 9, 1), datetime.date(2026, 12, 31), "62041")
    ]

    third = TrainingOffer.objects.get(lheo_number="HDF-2026-003")
    assert third.modality == TrainingOffer.Modality.DISTANCE
    assert third.duration_hours == 35
    assert third.price == Decimal("890.50")  # written « 890,50 »
    assert third.content == "Traitement de texte\nTableur"
    assert third.url == "http://www.cf-aisne.example/bureautique"
    assert third.sessions.count() == 0  # 00000000–00000000 is no dated session

    provider_a = Provider.objects.get(siret=SIRET_A)
    assert provider_a.name == "Institut numérique des Flandres"
    assert provider_a.nda == "32590123456"
    assert provider_a.address == "12 rue de la Donnée\n59000 Lille"
    assert provider_a.commune == catalogue_refs["lille"]
    assert provider_a.website == "http://inf-flandres.example"
    assert provider_a.contact_name == "Claire Durand"
    assert provider_a.contact_email == "contact@inf-flandres.example"
    assert provider_a.contact_phone == "03 20 00 00 01"
    assert provider_a.status == CurationStatus.SUBMITTED

    provider_b = Provider.objects.get(siret=SIRET_B)
    assert provider_b.name == "CF Aisne"  # raison-sociale « - »: the usual name
    assert provider_b.nda == ""  # 99999999999 means unknown
    assert provider_b.address == "5 avenue Carnot\nBâtiment B\n02000 Laon"
    assert provider_b.commune == catalogue_refs["laon"]  # by postcode and city
    assert provider_b.contact_email == "accueil@cf-aisne.example"
    assert provider_b.contact_phone == "03 23 00 00 02"

    events = CurationEvent.objects.filter(action=CurationEvent.Action.IMPORTED)
    assert events.filter(offer__isnull=False).count() == 3
    assert events.filter(provider__isnull=False).count() == 2
    assert set(events.values_list("user", flat=True)) == {curator.pk}
    assert set(events.values_list("to_status", flat=True)) == {CurationStatus.SUBMITTED}


def test_reimport_is_idempotent(catalogue_refs, fixture_file):
    import_lheo(fixture_file)
    before = _counts()
    offers_report, providers_report = import_lheo(fixture_file)
    assert (offers_report.created, offers_report.updated, offers_report.unchanged) == (0, 0, 3)
    assert (providers_report.created, providers_report.updated, providers_report.unchanged) == (0, 0, 2)
    assert _counts() == before


def test_reimport_updates_the_offer_by_its_number(catalogue_refs, fixture_file, tmp_path):
    import_lheo(fixture_file)
    offer = TrainingOffer.objects.get(lheo_number="HDF-2026-002")
    changed = _variant(
        fixture_file,
        tmp_path,
        ("<intitule-formation>Assistant de direction<", "<intitule-formation>Assistant de direction bilingue<"),
        ("<debut>20260900</debut>", "<debut>20261005</debut>"),
    )
    offers_report, _ = import_lheo(changed)

    assert (offers_report.created, offers_report.updated, offers_report.unchanged) == (0, 1, 2)
    offer.refresh_from_db()
    assert TrainingOffer.objects.filter(lheo_number="HDF-2026-002").get().pk == offer.pk
    assert offer.title == "Assistant de direction bilingue"
    assert offer.status == CurationStatus.SUBMITTED
    assert [s.start for s in offer.sessions.all()] == [datetime.date(2026, 10, 5)]
    event = offer.curation_events.order_by("-pk").first()
    assert "intitulé" in event.reason and "sessions" in event.reason


def test_published_offer_whose_content_changed_goes_back_to_review(catalogue_refs, fixture_file, tmp_path, curator):
    import_lheo(fixture_file)
    TrainingOffer.objects.filter(lheo_number="HDF-2026-001").update(status=CurationStatus.PUBLISHED)
    changed = _variant(fixture_file, tmp_path, ("<prix-total-TTC>4950.00<", "<prix-total-TTC>5100<"))

    offers_report, _ = import_lheo(changed, user=curator)

    offer = TrainingOffer.objects.get(lheo_number="HDF-2026-001")
    assert offer.price == Decimal("5100.00")
    assert offer.status == CurationStatus.SUBMITTED
    assert offers_report.returned_to_review == 1
    event = offer.curation_events.order_by("-pk").first()
    assert (event.action, event.from_status, event.to_status, event.user) == (
        CurationEvent.Action.IMPORTED,
        CurationStatus.PUBLISHED,
        CurationStatus.SUBMITTED,
        curator,
    )
    assert "prix" in event.reason


def test_published_offer_with_new_session_dates_stays_published(catalogue_refs, fixture_file, tmp_path):
    import_lheo(fixture_file)
    TrainingOffer.objects.filter(lheo_number="HDF-2026-001").update(status=CurationStatus.PUBLISHED)
    changed = _variant(fixture_file, tmp_path, ("<fin>20270315</fin>", "<fin>20270320</fin>"))

    offers_report, _ = import_lheo(changed)

    offer = TrainingOffer.objects.get(lheo_number="HDF-2026-001")
    assert offer.status == CurationStatus.PUBLISHED
    assert offers_report.updated == 1 and offers_report.returned_to_review == 0
    assert offer.sessions.get(lheo_number="HDF-2026-001-S1").end == datetime.date(2027, 3, 20)


def test_existing_provider_is_updated_with_the_values_the_file_gives(catalogue_refs, fixture_file):
    provider = ProviderFactory(siret=SIRET_A, name="Ancien nom", nda="", website="", qualiopi=True)
    provider.status = CurationStatus.PUBLISHED
    provider.save()

    _, providers_report = import_lheo(fixture_file)

    provider.refresh_from_db()
    assert (providers_report.created, providers_report.updated) == (1, 1)
    assert provider.name == "Institut numérique des Flandres"
    assert provider.nda == "32590123456"
    assert provider.status == CurationStatus.PUBLISHED
    assert provider.qualiopi is True  # not carried by LHEO: left alone
    event = provider.curation_events.get()
    assert "raison sociale" in event.reason


def test_curator_choice_of_skill_blocks_survives_a_reimport(catalogue_refs, fixture_file):
    import_lheo(fixture_file)
    offer = TrainingOffer.objects.get(lheo_number="HDF-2026-001")
    offer.skill_blocks.set([catalogue_refs["blocks"][0]])

    offers_report, _ = import_lheo(fixture_file)

    assert offers_report.unchanged == 3
    assert list(offer.skill_blocks.values_list("code", flat=True)) == ["RNCP37827BC01"]


def test_progress_is_reported_up_to_one(catalogue_refs, fixture_file):
    seen = []
    import_lheo(fixture_file, progress=seen.append)
    assert seen[-1] == 1.0
    assert seen == sorted(seen)


def test_a_binary_file_object_is_accepted(catalogue_refs, fixture_file):
    offers_report, _ = import_lheo(io.BytesIO(fixture_file.read_bytes()))
    assert offers_report.created == 3
    assert offers_report.source == "flux LHEO (offres)"


def test_html_to_text_is_stable():
    html = "<p>Un&nbsp;<b>texte</b></p><p>Deux<br />Trois</p><script>alert(1)</script><ul><li>a</li></ul>"
    text = html_to_text(html)
    assert text == "Un texte\nDeux\nTrois\n- a"
    assert html_to_text(text) == text
    assert html_to_text("Ligne 1\n\n\n  Ligne   2 ") == "Ligne 1\n\nLigne 2"


# Hostile and malformed files: refused with a clear message, nothing written.


def _refused(path):
    """Import `path` into a catalogue that already holds an offer: it must be refused and the
    catalogue left as it was."""
    TrainingOfferFactory(lheo_number="EXISTANTE-1")
    before = _counts()
    with pytest.raises(ImportFailed) as caught:
        import_lheo(path)
    assert _counts() == before
    return caught.value


def test_billion_laughs_is_refused(fixtures_dir):
    exc = _refused(fixtures_dir / "lheo" / "billion-laughs.xml")
    assert exc.errors[0].line == 3
    assert "déclaration d'entité XML « lol » refusée" in str(exc)
    assert "billion laughs" in str(exc)
    assert "rien n'a été écrit" in str(exc)


def test_external_entity_is_refused(fixtures_dir):
    exc = _refused(fixtures_dir / "lheo" / "entite-externe.xml")
    assert exc.errors[0].line == 3
    assert "déclaration d'entité XML « secret » refusée" in str(exc)


def test_external_dtd_is_refused(fixtures_dir):
    exc = _refused(fixtures_dir / "lheo" / "dtd-externe.xml")
    assert exc.errors[0].line == 2
    assert "DTD externe refusée" in str(exc)
    assert "http://attaquant.example/lheo.dtd" in str(exc)


def test_wrong_namespace_is_refused(catalogue_refs, fixture_file, tmp_path):
    path = _variant(fixture_file, tmp_path, ('xmlns="http://lheo.gouv.fr/2.3"', 'xmlns="http://lheo.gouv.fr/2.1"'))
    exc = _refused(path)
    assert exc.errors[0].line == 3
    assert "espace de noms « http://lheo.gouv.fr/2.1 » non reconnu" in exc.errors[0].message


def test_missing_namespace_is_refused(catalogue_refs, fixture_file, tmp_path):
    path = _variant(fixture_file, tmp_path, (' xmlns="http://lheo.gouv.fr/2.3"', ""))
    exc = _refused(path)
    assert "espace de noms absent non reconnu" in exc.errors[0].message


def test_truncated_file_is_refused(catalogue_refs, fixture_file, tmp_path):
    data = fixture_file.read_bytes()
    path = tmp_path / "tronque.xml"
    path.write_bytes(data[: data.index(b'<formation numero="HDF-2026-003">') + 40])
    exc = _refused(path)
    assert "fichier tronqué" in exc.errors[0].message
    assert exc.errors[0].line == path.read_bytes().count(b"\n") + 1


def test_wrong_encoding_is_refused(catalogue_refs, fixture_file, tmp_path):
    # Saved in Latin-1 while the declaration says UTF-8.
    path = tmp_path / "latin1.xml"
    path.write_bytes(fixture_file.read_text(encoding="utf-8").encode("latin-1", errors="replace"))
    exc = _refused(path)
    assert exc.errors[0].line == _line_of(fixture_file, "Analyste de données")
    assert "octet invalide pour l'encodage « UTF-8 »" in exc.errors[0].message


def test_missing_offer_number_is_refused(catalogue_refs, fixture_file, tmp_path):
    path = _variant(fixture_file, tmp_path, ('<formation numero="HDF-2026-002">', "<formation>"))
    exc = _refused(path)
    assert [str(e) for e in exc.errors] == [
        f"variant.xml, ligne {_line_of(path, '<formation>')} : offre sans numéro : "
        "numéro absent (attribut numero de <formation>)"
    ]


def test_missing_title_is_refused(catalogue_refs, fixture_file, tmp_path):
    path = _variant(fixture_file, tmp_path, ("<intitule-formation>Bureautique à distance</intitule-formation>", ""))
    exc = _refused(path)
    assert len(exc.errors) == 1
    assert exc.errors[0].line == _line_of(path, 'numero="HDF-2026-003"')
    assert exc.errors[0].message == "offre « HDF-2026-003 » : intitulé absent (<intitule-formation>)"


def test_siret_failing_luhn_is_refused(catalogue_refs, fixture_file, tmp_path):
    path = _variant(fixture_file, tmp_path, ("<SIRET>41205678900016</SIRET>", "<SIRET>41205678900017</SIRET>"))
    exc = _refused(path)
    assert len(exc.errors) == 1
    assert exc.errors[0].line == _line_of(path, "41205678900017")
    assert exc.errors[0].message == (
        "offre « HDF-2026-003 » : SIRET « 41205678900017 » invalide : la clé de contrôle (Luhn) est fausse"
    )


def test_missing_provider_name_is_refused(catalogue_refs, fixture_file, tmp_path):
    path = _variant(
        fixture_file, tmp_path, ("<nom-organisme>CF Aisne</nom-organisme>", "<nom-organisme>-</nom-organisme>")
    )
    exc = _refused(path)
    assert len(exc.errors) == 1
    assert exc.errors[0].message == (
        "offre « HDF-2026-003 » : nom de l'organisme responsable absent (<raison-sociale> et <nom-organisme>)"
    )


def test_duplicate_offer_number_is_refused(catalogue_refs, fixture_file, tmp_path):
    path = _variant(fixture_file, tmp_path, ('numero="HDF-2026-003"', 'numero="HDF-2026-001"'))
    exc = _refused(path)
    first = _line_of(path, '<formation numero="HDF-2026-001"')
    assert [e.message for e in exc.errors] == [f"offre « HDF-2026-001 » : numéro en double (déjà ligne {first})"]


def test_a_refused_reimport_leaves_the_catalogue_as_it_was(catalogue_refs, fixture_file, tmp_path):
    import_lheo(fixture_file)
    path = _variant(
        fixture_file,
        tmp_path,
        ("<intitule-formation>Assistant de direction<", "<intitule-formation>Autre intitulé<"),
        ("<debut>20261005</debut>", "<debut>20261305</debut>"),
    )
    before = _counts()
    with pytest.raises(ImportFailed, match="date de début de session « 20261305 » invalide"):
        import_lheo(path)
    assert _counts() == before
    assert TrainingOffer.objects.get(lheo_number="HDF-2026-002").title == "Assistant de direction"


# The command.


def test_command_prints_both_reports(catalogue_refs, fixture_file):
    out = io.StringIO()
    call_command("import_lheo", str(fixture_file), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("offres-hdf.xml (offres) : 3 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s)")
    assert lines[1] == "offres-hdf.xml (organismes) : 2 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s)"


def test_command_fails_on_a_refused_file(fixtures_dir):
    with pytest.raises(CommandError, match="DTD externe refusée"):
        call_command("import_lheo", str(fixtures_dir / "lheo" / "dtd-externe.xml"), stdout=io.StringIO())
    assert TrainingOffer.objects.count() == 0


# The real ONISEP offer (LHEO 2.2, escaped HTML).


@pytest.mark.realdata
def test_real_onisep_offer(shared_data):
    quimperle = Territory.objects.create(level=Territory.Level.COMMUNE, code="29233", name="Quimperlé")
    certification = CertificationFactory(code="RNCP474", title="BTS Négociation et relation client")
    block = SkillBlockFactory(certification=certification, code="RNCP474BC01", label="Relation client")
    OccupationFactory(code="D1402", label="Relation commerciale grands comptes et entreprises")
    TrainingOfferFactory(title="Autre offre", lheo_number="")  # untouched

    offers_report, providers_report = import_lheo(shared_data / "lheo" / "exemple-bts-onisep-lheo2.2.xml")

    assert (offers_report.created, providers_report.created) == (1, 1)
    assert offers_report.unknown_rome_codes == 2  # D1403, D1408
    offer = TrainingOffer.objects.get(lheo_number="9436_18706")
    assert offer.title == "BTS négociation et relation client"
    assert offer.objectives.startswith("A la fois vendeur, manager et commercial, le technicien supérieur")
    assert "<" not in offer.objectives and "&lt;" not in offer.content
    assert offer.content.splitlines()[1].startswith("- Gestion de clientèles ( 5 heures hebdomadaire")
    assert offer.content.splitlines()[-1].startswith("Sous statut scolaire, l'élève est en stage pendant seize")
    assert len(offer.content.splitlines()) == 6
    assert offer.certification == certification  # <code-RNCP>474</code-RNCP>
    assert list(offer.skill_blocks.all()) == [block]
    assert list(offer.occupations.values_list("code", flat=True)) == ["D1402"]
    assert offer.formacodes == ["34582", "34076"]
    assert offer.modality == TrainingOffer.Modality.IN_PERSON
    assert offer.duration_hours is None  # only « 2 ans » (duree-indicative)
    assert offer.price is None
    assert offer.cpf_eligible is False
    assert offer.url == "http://www2.cndp.fr/archivage/valid/brochadmin/bouton/c052.htm"
    assert offer.status == CurationStatus.SUBMITTED
    assert [(s.lheo_number, s.start, s.end, s.commune) for s in offer.sessions.all()] == [
        ("9436_18706", datetime.date(2015, 9, 1), datetime.date(2017, 8, 31), quimperle)
    ]
    provider = offer.provider
    assert provider.siret == "19290076900014"
    assert provider.name == "Lycée Kerneuzec"
    assert provider.nda == ""
    assert provider.address == "Kerneuzec\n29391 QUIMPERLÉ"
    assert provider.commune == quimperle
    assert provider.website == "http://lyceedekerneuzec.fr"
    assert provider.contact_email == "ce.0290076a@ac-rennes.fr"
    assert provider.contact_phone == "02 98 96 48 00"

    again, _ = import_lheo(shared_data / "lheo" / "exemple-bts-onisep-lheo2.2.xml")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


# --- Addresses: http or https only ---------------------------------------------------------


@pytest.mark.parametrize(
    "hostile", ["javascript://%0aalert(document.domain)", "data:text/html,<script>alert(1)</script>", "ftp://x.org"]
)
def test_an_offer_page_that_is_not_http_is_refused_with_its_line(catalogue_refs, fixture_file, tmp_path, hostile):
    path = _variant(
        fixture_file,
        tmp_path,
        (
            "<urlweb>https://inf-flandres.example/analyste-donnees</urlweb>",
            f"<urlweb>{hostile.replace('<', '&lt;')}</urlweb>",
        ),
    )
    exc = _refused(path)
    assert "adresse de la page de l'offre" in str(exc) and "seules les adresses http ou https" in str(exc)
    assert {error.line for error in exc.errors} == {_line_of(path, "<formation numero=")}


def test_a_provider_website_that_is_not_http_is_refused_with_its_line(catalogue_refs, fixture_file, tmp_path):
    path = _variant(
        fixture_file,
        tmp_path,
        ("<urlweb>inf-flandres.example</urlweb>", "<urlweb>javascript://%0aalert(document.domain)</urlweb>"),
    )
    exc = _refused(path)
    assert "site web de l'organisme « javascript://%0aalert(document.domain) » refusé" in str(exc)
