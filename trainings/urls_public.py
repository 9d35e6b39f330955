"""Routes of the public catalogue (no login needed)."""

from django.urls import path

from . import views_public

urlpatterns = [
    path("", views_public.catalogue, name="catalogue"),
    path("offres/<int:pk>/", views_public.offer_detail, name="offer"),
    path("organismes/<int:pk>/", views_public.provider_detail, name="provider"),
    path("suggestions/communes/", views_public.commune_lookup, name="commune_lookup"),
    path("suggestions/metiers/", views_public.occupation_lookup, name="occupation_lookup"),
]
