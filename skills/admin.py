from django.contrib import admin

from .categories import CATEGORIES
from .models import (
    Appellation,
    Certification,
    ExposureIndex,
    ExposureIndexScore,
    ItemOverride,
    Mobility,
    NafDivisionOccupation,
    Occupation,
    OccupationCrosswalk,
    OccupationTaskProfile,
    RomeItem,
    SkillBlock,
    TaskCategory,
)
from .selectors import ITEM_STATUS_LABELS, with_item_status


@admin.register(Occupation)
class OccupationAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "level", "parent", "rome_v3_parent", "transition_eco", "transition_num"]
    list_filter = ["level", "transition_eco", "transition_num", "transition_demo", "regulated", "managerial"]
    search_fields = ["code", "label", "appellations__label"]
    raw_id_fields = ["parent", "rome_v3_parent"]
    list_select_related = ["parent", "rome_v3_parent"]


@admin.register(Appellation)
class AppellationAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "occupation", "rarely_used"]
    list_filter = ["rarely_used", "occupation__parent__parent"]
    search_fields = ["code", "label", "occupation__code"]
    raw_id_fields = ["occupation"]
    list_select_related = ["occupation"]


@admin.register(Mobility)
class MobilityAdmin(admin.ModelAdmin):
    list_display = ["source", "target", "rank"]
    search_fields = ["source__code", "source__label", "target__code", "target__label"]
    raw_id_fields = ["source", "target"]
    list_select_related = ["source", "target"]


@admin.register(TaskCategory)
class TaskCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "position"]
    search_fields = ["code", "label"]


class SkillBlockInline(admin.TabularInline):
    model = SkillBlock
    fields = ["code", "label"]
    extra = 0


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "register", "level", "active"]
    list_filter = ["register", "level", "active"]
    search_fields = ["code", "title"]
    filter_horizontal = ["occupations"]
    inlines = [SkillBlockInline]


@admin.register(SkillBlock)
class SkillBlockAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "certification"]
    list_filter = ["certification__register", "certification__level"]
    search_fields = ["code", "label", "certification__title"]
    raw_id_fields = ["certification"]
    filter_horizontal = ["occupations"]


@admin.register(NafDivisionOccupation)
class NafDivisionOccupationAdmin(admin.ModelAdmin):
    list_display = ["naf_division", "occupation"]
    list_filter = ["naf_division"]
    search_fields = ["naf_division", "occupation__code", "occupation__label"]
    raw_id_fields = ["occupation"]
    list_select_related = ["occupation"]


@admin.register(OccupationTaskProfile)
class OccupationTaskProfileAdmin(admin.ModelAdmin):
    list_display = ["occupation", "rc", "rm", "nra", "nri", "nrm", "source", "updated_at"]
    list_filter = ["source"]
    search_fields = ["occupation__code", "occupation__label"]
    raw_id_fields = ["occupation"]
    list_select_related = ["occupation"]


@admin.register(ExposureIndex)
class ExposureIndexAdmin(admin.ModelAdmin):
    list_display = ["name", "code_system", "coverage", "rescaled", "source_file", "imported_at"]
    list_filter = ["code_system", "rescaled"]
    search_fields = ["name", "description"]
    # Scores come from import_index only: editing one by hand would hide which file it is from.
    readonly_fields = ["code_system", "source_file", "rescaled", "coverage", "imported_at"]


@admin.register(ExposureIndexScore)
class ExposureIndexScoreAdmin(admin.ModelAdmin):
    list_display = ["index", "occupation", "score", "raw_score", "matched_codes"]
    list_filter = ["index"]
    search_fields = ["occupation__code", "occupation__label", "matched_codes"]
    raw_id_fields = ["occupation"]
    list_select_related = ["index", "occupation"]


@admin.register(OccupationCrosswalk)
class OccupationCrosswalkAdmin(admin.ModelAdmin):
    list_display = ["source_system", "source_code", "target_system", "target_code"]
    list_filter = ["source_system", "target_system"]
    search_fields = ["source_code", "target_code"]


class ItemStatusFilter(admin.SimpleListFilter):
    title = "classement"
    parameter_name = "statut"

    def lookups(self, request, model_admin):
        return list(ITEM_STATUS_LABELS.items())

    def queryset(self, request, queryset):
        if self.value() in ITEM_STATUS_LABELS:
            return queryset.filter(status=self.value())
        return queryset


class ItemOverrideInline(admin.TabularInline):
    model = ItemOverride
    fields = ["created_at", "created_by", *CATEGORIES, "reason"]
    readonly_fields = fields
    ordering = ["-created_at", "-pk"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RomeItem)
class RomeItemAdmin(admin.ModelAdmin):
    """Read-only: the items come from the ROME import, their shares and rule from the lexicon
    (`classify_rome`), and corrections go through the classification pages of the observatory,
    which validate them and keep who decided."""

    list_display = ["code", "label", "kind", "rule", "status_label", "links", *CATEGORIES]
    list_filter = ["kind", ItemStatusFilter]
    search_fields = ["code", "label", "rule"]
    readonly_fields = ["code", "kind", "label", "context_type", *CATEGORIES, "rule"]
    inlines = [ItemOverrideInline]

    def get_queryset(self, request):
        return with_item_status(super().get_queryset(request))

    @admin.display(description="classement", ordering="status")
    def status_label(self, obj):
        return ITEM_STATUS_LABELS[obj.status]

    @admin.display(description="fiches", ordering="links")
    def links(self, obj):
        return obj.links

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ItemOverride)
class ItemOverrideAdmin(admin.ModelAdmin):
    """The history of the corrections: append-only, so nothing here can be added, edited or
    deleted."""

    list_display = ["item", "created_at", "created_by", *CATEGORIES, "reason"]
    list_filter = ["created_at"]
    search_fields = ["item__code", "item__label", "reason", "created_by__username"]
    list_select_related = ["item", "created_by"]
    readonly_fields = ["item", *CATEGORIES, "reason", "created_by", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
