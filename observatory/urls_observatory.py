from django.urls import path

from .views import classification, exports, grid, map, method, occupations, overview, ranking, runs

app_name = "observatory"

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("grille/", grid.grid_page, name="grid"),
    path("grille/export.csv", exports.grid_export_csv, name="grid_export_csv"),
    path("grille/export.xlsx", grid.grid_export_xlsx, name="grid_export_xlsx"),
    path("carte/", map.map_page, name="map"),
    path("metiers/", occupations.occupation_search, name="occupations"),
    path("metiers/autocomplete/", occupations.occupation_autocomplete, name="occupation_autocomplete"),
    path("metiers/export.csv", exports.occupations_export_csv, name="occupations_export_csv"),
    path("metiers/classement/", ranking.ranking_page, name="ranking"),
    path("metiers/classement/export.csv", ranking.ranking_export_csv, name="ranking_export_csv"),
    path("metiers/classement/export.xlsx", ranking.ranking_export_xlsx, name="ranking_export_xlsx"),
    path("metiers/<str:code>/", occupations.occupation_detail, name="occupation"),
    path("runs/", runs.run_list, name="runs"),
    path("runs/lancer/", runs.run_launch, name="run_launch"),
    path("runs/<int:run_id>/publier/", runs.run_publish, name="run_publish"),
    path("runs/comparer/", runs.run_compare, name="run_compare"),
    path("runs/<int:run_id>/progression.json", runs.run_progress, name="run_progress"),
    path("methode/", method.methodology_page, name="methodology"),
    path("methode.json", method.methodology_json, name="methodology_json"),
    path("classement/", classification.item_list, name="items"),
    path("classement/<str:code>/", classification.item_detail, name="item"),
]
