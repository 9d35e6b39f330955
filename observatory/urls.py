from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from .views.home import home

urlpatterns = [
    path("", home, name="home"),
    path("observatoire/", include("observatory.urls_observatory")),
    path("api/v1/", include("observatory.api_urls")),
    path("comptes/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
