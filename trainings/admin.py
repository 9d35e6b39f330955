from django.contrib import admin

from .models import Provider, TrainingOffer


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["siret", "name", "nda", "commune"]
    search_fields = ["siret", "name", "nda"]
    raw_id_fields = ["commune"]
    list_select_related = ["commune"]


@admin.register(TrainingOffer)
class TrainingOfferAdmin(admin.ModelAdmin):
    list_display = ["title", "provider", "certification", "status"]
    list_filter = ["status", "certification__level"]
    search_fields = ["title", "lheo_number", "provider__name"]
    raw_id_fields = ["provider", "certification"]
    filter_horizontal = ["skill_blocks"]
    list_select_related = ["provider", "certification"]
