"""Routes of the public explorer (no login needed). Fiche codes are ROME codes (M1607)."""

from django.urls import path

from . import views

app_name = "explorer"

urlpatterns = [
    path("", views.search, name="search"),
    path("suggestions/", views.suggestions, name="suggestions"),
    path("<str:code>/", views.occupation, name="occupation"),
    path("<str:source>/vers/<str:target>/", views.pathway, name="pathway"),
]
