from django.urls import path

from . import views

app_name = "observatory"

urlpatterns = [
    path("methode/", views.methodology_page, name="methodology"),
    path("methode.json", views.methodology_json, name="methodology_json"),
    path("grille/export.csv", views.grid_export_csv, name="grid_export_csv"),
    path("metiers/export.csv", views.occupations_export_csv, name="occupations_export_csv"),
]
