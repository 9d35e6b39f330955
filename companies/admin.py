from django.contrib import admin

from .models import Campaign, Company, Establishment, JobPosition, RegionalContact, Sector, Territory


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "population"]
    list_filter = ["level", "parent"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent", "epci"]
    list_select_related = ["parent"]
    exclude = ["geometry"]


@admin.register(Sector)
class SectorAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "label"]
    raw_id_fields = ["parent"]
    list_select_related = ["parent"]


class EstablishmentInline(admin.TabularInline):
    model = Establishment
    fields = ["siret", "name", "sector", "commune", "size_band"]
    raw_id_fields = ["sector", "commune"]
    extra = 0


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["siren", "name", "created_at", "verified_at"]
    search_fields = ["siren", "name", "establishments__siret"]
    # Verification goes through the curators' page (companies.accounts.company_verify), which
    # also has the grid recomputed.
    readonly_fields = ["verified_at", "verified_by"]
    inlines = [EstablishmentInline]


class JobPositionInline(admin.TabularInline):
    model = JobPosition
    fields = ["occupation", "headcount", "rc", "rm", "nra", "nri", "nrm", "training_need", "source"]
    raw_id_fields = ["occupation"]
    extra = 0


@admin.register(Establishment)
class EstablishmentAdmin(admin.ModelAdmin):
    list_display = ["siret", "company", "sector", "commune", "size_band"]
    list_filter = ["size_band", "commune__parent", "sector__parent__parent__parent__parent"]
    search_fields = ["siret", "name", "company__name", "company__siren"]
    raw_id_fields = ["company", "sector", "commune"]
    list_select_related = ["company", "sector", "commune"]
    inlines = [JobPositionInline]


@admin.register(JobPosition)
class JobPositionAdmin(admin.ModelAdmin):
    list_display = [
        "establishment",
        "occupation",
        "headcount",
        "rc",
        "rm",
        "nra",
        "nri",
        "nrm",
        "training_need",
        "source",
    ]
    list_filter = ["source", "training_need", "campaign", "establishment__size_band"]
    search_fields = ["establishment__siret", "establishment__company__name", "occupation__code", "occupation__label"]
    raw_id_fields = ["establishment", "occupation"]
    list_select_related = ["establishment__company", "occupation"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["year", "name", "opens_on", "closes_on", "is_current"]
    list_filter = ["is_current"]
    search_fields = ["name"]


@admin.register(RegionalContact)
class RegionalContactAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "email", "phone", "active", "updated_at"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "role", "email"]
    # Communes too: the curators' form offers the région, départements and EPCI only.
    autocomplete_fields = ["territories"]
    filter_horizontal = ["sections"]
