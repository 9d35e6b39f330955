from django.urls import include, path

app_name = "trainings"

urlpatterns = [
    path("curation/", include("trainings.urls_curation")),
    path("", include("trainings.urls_public")),
]
