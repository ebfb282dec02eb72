"""Small adaptations of Django Ninja shared by both APIs."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern
from ninja.renderers import JSONRenderer

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


class Utf8JSONRenderer(JSONRenderer):
    """JSON in UTF-8 as is (« é », not « \\u00e9 »): what Chorus Pro sends, and shorter."""

    json_dumps_params = {"ensure_ascii": False}


def answer_method_not_allowed(patterns: list, render: Callable[[object, list[str]], HttpResponse]) -> list:
    """Ninja answers a wrong HTTP method with a bare « Method not allowed » text; each API wants its own error
    shape. `render(request, allowed_methods)` builds it; the Allow header is kept."""
    wrapped = []
    for pattern in patterns:
        if not isinstance(pattern, URLPattern):
            wrapped.append(pattern)
            continue

        def make(view):
            @functools.wraps(view)
            def view_with_405(request, *args, **kwargs):
                response = view(request, *args, **kwargs)
                if isinstance(response, HttpResponseNotAllowed):
                    allowed = [method.strip() for method in response["Allow"].split(",") if method.strip()]
                    answer = render(request, allowed)
                    answer["Allow"] = response["Allow"]
                    return answer
                return response

            view_with_405.csrf_exempt = True
            return view_with_405

        wrapped.append(URLPattern(pattern.pattern, make(pattern.callback), pattern.default_args, pattern.name))
    return wrapped
