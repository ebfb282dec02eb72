"""Platform administrators manage people here (support: unlock, deactivate, check activation)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from choeur.accounts.models import AccountActivation, User


class AccountActivationInline(admin.TabularInline):
    model = AccountActivation
    extra = 0
    can_delete = False
    # The token itself is never stored; its hash is useless to support staff, so it is not shown.
    fields = ("created_at", "used_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "contact_email", "is_active", "is_staff", "date_joined")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "contact_email", "first_name", "last_name")
    readonly_fields = ("date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Identité", {"fields": ("first_name", "last_name", "phone", "contact_email")}),
        ("Droits", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("date_joined", "last_login")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "first_name", "last_name", "usable_password", "password1", "password2"),
            },
        ),
    )
    inlines = [AccountActivationInline]


@admin.register(AccountActivation)
class AccountActivationAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at", "used_at")
    list_select_related = ("user",)
    search_fields = ("user__email",)
    readonly_fields = ("user", "created_at", "used_at")
    exclude = ("token_hash",)

    def has_add_permission(self, request):
        return False
