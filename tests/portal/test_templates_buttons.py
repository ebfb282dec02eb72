"""DSFR 1.14 shrinks every icon button of a `.fr-btns-group` to its icon unless the group says on which side
icons go (`fr-btns-group--icon-left|right`): « Enregistrer et continuer » rendered as « Enre ». Every
template is read, including pages no browser journey visits."""

import re
from pathlib import Path

import choeur

TEMPLATES = Path(choeur.__file__).parent
GROUP = re.compile(r'<(ul|div) class="(fr-btns-group[^"]*)"')
ICON_BUTTON = re.compile(r'class="fr-btn\b[^"]*\bfr-icon-[^"]*"[^>]*>\s*[^<\s]')


def _labelled_icon_buttons_in_groups_without_side():
    for path in sorted(TEMPLATES.rglob("*.html")):
        if path.name == "base.html":  # the header's tool links: the DSFR header shows their labels itself
            continue
        text = path.read_text()
        for match in GROUP.finditer(text):
            end = text.find(f"</{match.group(1)}>", match.end())
            block = text[match.end() : end]
            if "fr-btns-group--icon-" not in match.group(2) and ICON_BUTTON.search(block):
                yield f"{path.relative_to(TEMPLATES)} : {match.group(0)}"


def test_every_button_group_with_labelled_icon_buttons_declares_the_icon_side():
    offenders = list(_labelled_icon_buttons_in_groups_without_side())
    assert not offenders, "Groupes de boutons sans fr-btns-group--icon-left :\n" + "\n".join(offenders)


def test_a_labelled_button_with_an_icon_declares_the_side_of_its_icon():
    # Without fr-btn--icon-left|right the DSFR makes it an icon-only button; that is only right when a
    # title carries the label for sighted users.
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        if path.name == "base.html":  # the header's tool links: the DSFR header shows their labels itself
            continue
        for tag in re.findall(r'<(?:a|button)\b[^>]*class="fr-btn\b[^"]*\bfr-icon-[^"]*"[^>]*>', path.read_text()):
            if "fr-btn--icon-" not in tag and "title=" not in tag:
                offenders.append(f"{path.relative_to(TEMPLATES)} : {tag}")
    assert not offenders, "\n".join(offenders)
