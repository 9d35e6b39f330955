"""Routes of the public catalogue (no login needed)."""

urlpatterns = []
