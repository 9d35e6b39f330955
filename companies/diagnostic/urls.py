from django.urls import path

from . import views

app_name = "diagnostic"

urlpatterns = [
    path("", views.diagnostic_home, name="home"),
    path("commencer/", views.diagnostic_start, name="start"),
    path("metiers/", views.occupation_lookup, name="occupations"),
    path("communes/", views.commune_lookup, name="communes"),
    path("naf/", views.sector_lookup, name="sectors"),
    path("<int:diagnostic_id>/", views.diagnostic_detail, name="detail"),
    path("<int:diagnostic_id>/identite/", views.diagnostic_identity, name="identity"),
    path("<int:diagnostic_id>/maturite/", views.diagnostic_maturity, name="maturity"),
    path("<int:diagnostic_id>/metiers/", views.diagnostic_jobs, name="jobs"),
    path("<int:diagnostic_id>/metiers/<int:job_id>/", views.diagnostic_job_edit, name="job_edit"),
    path("<int:diagnostic_id>/metiers/<int:job_id>/retirer/", views.diagnostic_job_remove, name="job_remove"),
    path("<int:diagnostic_id>/verification/", views.diagnostic_review, name="review"),
    path("<int:diagnostic_id>/envoyer/", views.diagnostic_submit, name="submit"),
]
