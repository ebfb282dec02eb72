"""Contextual help in templates: `{% status_help "invoice" row.status %}` next to a badge,
`{% cadre_help invoice.cadre %}`, `{% field_help bound_field %}` for fields drawn by hand (line tables).
The texts and their sections come from choeur.portal.aide_views.contextual, the one registry."""

from django import template

from choeur.portal.aide_views import contextual

register = template.Library()


@register.inclusion_tag("portal/aide/_help.html")
def status_help(kind, code):
    return {"help": contextual.status_help(kind, str(code)) if code else None}


@register.inclusion_tag("portal/aide/_help.html")
def cadre_help(code):
    return {"help": contextual.cadre_help(str(code)) if code else None}


@register.inclusion_tag("portal/aide/_help.html")
def field_help(bound_field):
    return {"help": contextual.field_help(bound_field.form, bound_field.name, str(bound_field.label or ""))}
