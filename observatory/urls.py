from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from .views import health, report
from .views.home import home

urlpatterns = [
    path("", home, name="home"),
    path("sante/", health.health, name="health"),
    path("observatoire/", include("observatory.urls_observatory")),
    path("api/v1/", include("observatory.api_urls")),
    path("diagnostic/<int:pk>/rapport/", report.report, name="diagnostic_report"),
    path("diagnostic/<int:pk>/rapport.pdf", report.report_pdf, name="diagnostic_report_pdf"),
    path("diagnostic/", include("companies.diagnostic.urls")),
    path("formations/", include("trainings.urls")),
    path("metiers/", include("explorer.urls")),
    path("comptes/", include("companies.accounts.urls")),
    path("comptes/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "observatory.views.errors.not_found"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
