"""The catalogue's reads: what is published, and distances computed by the database."""

import datetime
import math

import pytest

from tests.companies.factories import CommuneFactory
from tests.trainings.factories import ProviderFactory, TrainingOfferFactory
from trainings.models import CurationStatus
from trainings.selectors import Circle, published_offers, within

pytestmark = pytest.mark.django_db


def python_haversine(lat1, lon1, lat2, lon2, radius=6371.0):
    """The textbook formula, written independently of the SQL one."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))


def test_published_offers_need_a_published_provider():
    TrainingOfferFactory(title="Oui")
    TrainingOfferFactory(title="Offre non publiée", status=CurationStatus.SUBMITTED)
    TrainingOfferFactory(title="Organisme archivé", provider=ProviderFactory(status=CurationStatus.ARCHIVED))

    assert list(published_offers().values_list("title", flat=True)) == ["Oui"]


def test_bounding_box_holds_the_circle():
    circle = Circle(50.0, 3.0, 20)
    (south, north), (west, east) = circle.bounding_box()

    # 20 km of latitude is 20 / 111.195 = 0.17986°.
    assert (south, north) == pytest.approx((50.0 - 0.17986, 50.0 + 0.17986), abs=1e-5)
    # East and west, 20 km along the parallel is further than 0.17986 / cos 50° of longitude
    # would be at 50.18°: the box takes the cosine of the northern edge.
    assert east - 3.0 == pytest.approx(0.17986 / math.cos(math.radians(50.17986)), abs=1e-5)
    assert python_haversine(50.0, 3.0, 50.0, east) > 20


def test_the_database_distance_is_the_haversine():
    # Lille, Arras and Amiens, at their approximate centres.
    lille = (50.6333, 3.0586)
    places = {"Arras": (50.2910, 2.7643), "Amiens": (49.9008, 2.2905), "Dunkerque": (51.0344, 2.3768)}
    for name, (lat, lon) in places.items():
        commune = CommuneFactory(name=name, latitude=lat, longitude=lon)
        TrainingOfferFactory(title=name, provider=ProviderFactory(commune=commune))

    offers = within(published_offers(), Circle(*lille, 80), datetime.date.today()).order_by("distance_km")

    expected = {name: python_haversine(*lille, *point) for name, point in places.items()}
    # Arras is about 43.4 km from Lille, Dunkerque 65.4 km, Amiens 98.1 km (outside 80 km).
    assert expected["Arras"] == pytest.approx(43.4, abs=0.1)
    assert expected["Amiens"] == pytest.approx(98.1, abs=0.1)
    assert [(o.title, round(o.distance_km, 6)) for o in offers] == [
        ("Arras", round(expected["Arras"], 6)),
        ("Dunkerque", round(expected["Dunkerque"], 6)),
    ]
