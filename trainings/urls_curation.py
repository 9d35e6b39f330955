"""Routes of the catalogue's curation (curators only), under /formations/curation/."""

from django.urls import path

from . import views_curation

urlpatterns = [
    path("", views_curation.queue, name="curation_queue"),
    path("offres/<int:pk>/", views_curation.offer, name="curation_offer"),
    path("offres/<int:pk>/lien-ia/", views_curation.offer_ai_flag, name="curation_offer_ai_flag"),
    path("blocs/<int:pk>/lien-ia/", views_curation.skill_block_ai_flag, name="curation_skill_block_ai_flag"),
    path("organismes/", views_curation.providers, name="curation_providers"),
    path("organismes/<int:pk>/", views_curation.provider, name="curation_provider"),
    path("imports/", views_curation.imports, name="curation_imports"),
    path("imports/<int:pk>/", views_curation.import_job, name="curation_import_job"),
    path("imports/<int:pk>/progression.json", views_curation.import_job_progress, name="curation_import_progress"),
]
