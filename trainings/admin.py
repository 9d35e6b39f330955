from django.contrib import admin

from .models import CurationEvent, ImportJob, Provider, Session, TrainingOffer


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["siret", "name", "nda", "qualiopi", "commune", "status"]
    list_filter = ["status", "qualiopi"]
    search_fields = ["siret", "name", "nda"]
    raw_id_fields = ["commune"]
    list_select_related = ["commune"]


class SessionInline(admin.TabularInline):
    model = Session
    raw_id_fields = ["commune"]
    extra = 0


@admin.register(TrainingOffer)
class TrainingOfferAdmin(admin.ModelAdmin):
    list_display = ["title", "provider", "certification", "modality", "ai_related", "status"]
    list_filter = ["status", "modality", "ai_related", "cpf_eligible", "certification__level"]
    search_fields = ["title", "lheo_number", "provider__name"]
    raw_id_fields = ["provider", "certification"]
    filter_horizontal = ["skill_blocks", "occupations"]
    list_select_related = ["provider", "certification"]
    inlines = [SessionInline]


@admin.register(CurationEvent)
class CurationEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "offer", "provider", "user", "from_status", "to_status"]
    list_filter = ["action"]
    raw_id_fields = ["offer", "provider", "user"]
    list_select_related = ["offer", "provider", "user"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "filename", "state", "progress", "created_by"]
    list_filter = ["kind", "state"]
    exclude = ["payload"]
    readonly_fields = ["kind", "filename", "state", "progress", "report", "created_by", "finished_at"]
