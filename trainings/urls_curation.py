"""Routes of the catalogue's curation (curators only)."""

urlpatterns = []
