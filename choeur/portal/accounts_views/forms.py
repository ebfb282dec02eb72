"""Account forms (DSFR). Field checks that need no database stay here; business rules are in services."""

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from dsfr.forms import DsfrBaseForm

from choeur.accounts import services
from choeur.accounts.models import User
from choeur.core.errors import ApplicationError

PASSWORD_HELP = (
    "Au moins 12 caractères, pas uniquement des chiffres, ni trop courant, ni trop proche de votre nom ou "
    "de votre adresse. Une phrase de plusieurs mots est idéale."
)


def apply_application_error(form: forms.Form, error: ApplicationError) -> None:
    """Show a service's refusal next to the field it concerns (or above the form)."""
    field = error.field if error.field in form.fields else None
    messages = error.extra.get("messages") or [error.message]
    for message in messages:
        form.add_error(field, message)


class RegisterForm(DsfrBaseForm):
    email = forms.EmailField(
        label="Adresse électronique de connexion",
        help_text="Elle sert d'identifiant ; un lien d'activation y sera envoyé. Format : prenom.nom@exemple.fr",
        error_messages={
            "required": "Saisissez votre adresse électronique.",
            "invalid": "Saisissez une adresse électronique valide, par exemple prenom.nom@exemple.fr.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    first_name = forms.CharField(
        label="Prénom",
        max_length=150,
        error_messages={"required": "Saisissez votre prénom."},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label="Nom",
        max_length=150,
        error_messages={"required": "Saisissez votre nom."},
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    phone = forms.CharField(
        label="Téléphone (facultatif)",
        required=False,
        max_length=30,
        help_text="Format : 01 23 45 67 89 ou +33 1 23 45 67 89",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )


class EmailForm(DsfrBaseForm):
    email = forms.EmailField(
        label="Adresse électronique de connexion",
        error_messages={
            "required": "Saisissez l'adresse électronique avec laquelle vous vous êtes inscrit.",
            "invalid": "Saisissez une adresse électronique valide, par exemple prenom.nom@exemple.fr.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class ChoosePasswordForm(DsfrBaseForm):
    """Two password fields; the validators themselves run in the service (one source of messages)."""

    password1 = forms.CharField(
        label="Mot de passe",
        help_text=PASSWORD_HELP,
        strip=False,
        error_messages={"required": "Saisissez un mot de passe."},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Confirmation du mot de passe",
        strip=False,
        error_messages={"required": "Saisissez à nouveau le mot de passe pour le confirmer."},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password2") and cleaned["password1"] != cleaned["password2"]:
            self.add_error("password2", "Les deux mots de passe ne sont pas identiques : saisissez-les à nouveau.")
        return cleaned


class LoginForm(DsfrBaseForm, AuthenticationForm):
    """Django's login form (it passes `request` to `authenticate()`, which django-axes needs), in French."""

    username = forms.EmailField(
        label="Adresse électronique",
        error_messages={
            "required": "Saisissez votre adresse électronique de connexion.",
            "invalid": "Saisissez une adresse électronique valide, par exemple prenom.nom@exemple.fr.",
        },
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        error_messages={"required": "Saisissez votre mot de passe."},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    # Set when the address belongs to an account never activated: the page then offers a new link.
    inactive_account = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        minutes = int(settings.AXES_COOLOFF_TIME * 60)
        self.error_messages = {
            **self.error_messages,
            "invalid_login": (
                "Adresse électronique ou mot de passe incorrect. Vérifiez votre saisie : après "
                f"{settings.AXES_FAILURE_LIMIT} essais infructueux, le compte est bloqué {minutes} minutes."
            ),
            "inactive": "Ce compte est désactivé. Contactez le gestionnaire de votre structure ou le support.",
        }

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            self.user_cache = authenticate(self.request, username=username, password=password)
            if self.user_cache is None:
                pending = User.objects.filter(email__iexact=username, is_active=False).first()
                if pending is not None and not pending.has_usable_password():
                    self.inactive_account = True
                    raise ValidationError(
                        "Votre compte n'est pas encore activé : ouvrez le lien d'activation reçu par courriel. "
                        "Le lien a expiré ou vous ne le retrouvez pas ? Demandez un nouveau lien d'activation.",
                        code="not_activated",
                    )
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class OtpCodeForm(DsfrBaseForm):
    code = forms.CharField(
        label="Code de vérification",
        help_text="Le code à 6 chiffres affiché par votre application d'authentification, ou un code de secours.",
        max_length=20,
        error_messages={"required": "Saisissez le code affiché par votre application."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )


class ReauthForm(DsfrBaseForm):
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        error_messages={"required": "Saisissez votre mot de passe."},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    code = forms.CharField(
        label="Code de vérification",
        help_text="Le code à 6 chiffres affiché par votre application d'authentification, ou un code de secours.",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    def __init__(self, *args, needs_code: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if needs_code:
            self.fields["code"].required = True
            self.fields["code"].error_messages["required"] = "Saisissez le code affiché par votre application."
        else:
            del self.fields["code"]


class ProfileForm(DsfrBaseForm):
    first_name = forms.CharField(
        label="Prénom", max_length=150, error_messages={"required": "Saisissez votre prénom."}
    )
    last_name = forms.CharField(label="Nom", max_length=150, error_messages={"required": "Saisissez votre nom."})
    phone = forms.CharField(
        label="Téléphone (facultatif)",
        required=False,
        max_length=30,
        help_text="Format : 01 23 45 67 89 ou +33 1 23 45 67 89",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    contact_email = forms.EmailField(
        label="Adresse électronique de contact (facultatif)",
        required=False,
        help_text=(
            "Les notifications y sont envoyées. Laissée vide, elles partent à votre adresse de connexion. "
            "Format : prenom.nom@exemple.fr"
        ),
        error_messages={"invalid": "Saisissez une adresse de contact valide, par exemple prenom.nom@exemple.fr."},
    )


class PasswordChangeForm(DsfrBaseForm):
    old_password = forms.CharField(
        label="Mot de passe actuel",
        strip=False,
        error_messages={"required": "Saisissez votre mot de passe actuel."},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password1 = forms.CharField(
        label="Nouveau mot de passe",
        help_text=PASSWORD_HELP,
        strip=False,
        error_messages={"required": "Saisissez un nouveau mot de passe."},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label="Confirmation du nouveau mot de passe",
        strip=False,
        error_messages={"required": "Saisissez à nouveau le nouveau mot de passe pour le confirmer."},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("new_password1"), cleaned.get("new_password2")
        if p1 and p2 and p1 != p2:
            self.add_error("new_password2", "Les deux mots de passe ne sont pas identiques : saisissez-les à nouveau.")
        return cleaned


class ResetRequestForm(DsfrBaseForm, PasswordResetForm):
    email = forms.EmailField(
        label="Adresse électronique de connexion",
        max_length=254,
        error_messages={
            "required": "Saisissez l'adresse électronique de connexion de votre compte.",
            "invalid": "Saisissez une adresse électronique valide, par exemple prenom.nom@exemple.fr.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class ResetPasswordForm(DsfrBaseForm, SetPasswordForm):
    """The form behind the reset link. Saving goes through `user_set_password` (audit, notice, unlock)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "Nouveau mot de passe"
        self.fields["new_password1"].help_text = PASSWORD_HELP
        self.fields["new_password2"].label = "Confirmation du nouveau mot de passe"
        self.error_messages = {
            **self.error_messages,
            "password_mismatch": "Les deux mots de passe ne sont pas identiques : saisissez-les à nouveau.",
        }

    def save(self, commit=True):
        try:
            return services.user_set_password(
                user=self.user, password=self.cleaned_data["new_password1"], reason="reset"
            )
        except ApplicationError as exc:  # validators already ran in clean(); kept for safety
            raise ValidationError(exc.message) from exc
