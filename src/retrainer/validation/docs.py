"""The Data Docs page of a validation: GX's rendering, sanitised into one self-contained page.

GX's page builders put data (column names, values, expectation kwargs) into their HTML
unescaped, so a column called ``<img src=x onerror=...>`` would run as code in whoever
opens the page. Escaping those values before GX renders them would mean knowing every
place GX copies a string into markup, a list that changes with each GX release, so it
cannot be the guarantee. The guarantee is the output: GX's finished ``<body>`` goes through
an allowlist sanitiser (nh3, the bindings of the Rust crate Ammonia): only plain document tags
and ``class``/``id``/``title`` attributes survive, links only within the page, no script,
handler, style, form, image or URL of any kind, whatever GX emits. The ``<head>`` is ours:
a charset, an escaped title and an inline stylesheet, no CDN (GX's own pulls 9 scripts and
6 stylesheets from CDNs, which cannot run under the plugin's CSP anyway).

The data-derived strings of the result (kwargs, observed and unexpected values) are still
escaped on a copy before GX renders it, for legibility only: the sanitiser would drop a
column named ``<img ...>`` from the page, escaped it shows as text.
"""

from __future__ import annotations

import copy
import html
import re
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from retrainer.validation.runner import ValidationResult

__all__ = ["render_data_docs", "sanitise_fragment"]

# Elements dropped with everything inside them: code, GX's widgets that need its scripts
# (the "show failed only" toggle), its newsletter footer, and anything that fetches.
_DROPPED: Final = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "object",
        "embed",
        "svg",
        "math",
        "form",
        "label",
        "input",
        "button",
        "select",
        "textarea",
        "footer",
    }
)


def _allowed_tags() -> set[str]:
    import nh3

    # Ammonia's default document tags, less those that load something.
    return set(nh3.ALLOWED_TAGS) - {"img", "area", "map", "footer"}


_ATTRIBUTES: Final = {
    "*": {"class", "id", "title"},
    "a": {"href"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    # In-page anchors (GX's table of contents) only: a link out of a quarantined report
    # is a link an attacker chose.
    if attribute == "href" and not value.startswith("#"):
        return None
    return value


def sanitise_fragment(markup: str) -> str:
    """``markup`` reduced to inert document HTML (see the module docstring)."""
    import nh3

    return nh3.clean(
        markup,
        tags=_allowed_tags(),
        clean_content_tags=set(_DROPPED),
        attributes={k: set(v) for k, v in _ATTRIBUTES.items()},
        attribute_filter=_keep_attribute,
        url_schemes=set(),
        strip_comments=True,
        link_rel=None,
    )


# GX's page takes its layout from Bootstrap on a CDN; this keeps it readable without one.
_STYLE: Final = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #1a202c; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f7fafc; }
h4, h5, h6 { margin: 1em 0 .4em; }
.card, .ge-section { border: 1px solid #e2e8f0; margin: 1em 0; padding: .5em 1em; }
.show-scrollbars { max-width: 60em; overflow-x: auto; }
.sticky > .card:first-child { display: none; } /* GX's filter buttons, which need scripts */
/* GX's status icons come from a CDN icon font; these glyphs stand in for them. */
.fa-check-circle::before { content: "\\2714"; color: #2f855a; }
.fa-times::before, .fa-times-circle::before { content: "\\2718"; color: #c53030; }
.fa-exclamation-triangle::before { content: "\\26A0"; color: #b7791f; }
.retrainer-summary { border: 2px solid #c0392b; background: #fdecea; padding: .5em 1em; }
.retrainer-summary pre { white-space: pre-wrap; }
"""


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, list | tuple):
        return type(value)(_escaped(v) for v in value)
    if isinstance(value, dict):
        # Keys are GX's own names (``column``, ``partial_unexpected_list``), not data.
        return {k: _escaped(v) for k, v in value.items()}
    return value


def _escaped_result(gx_result: Any) -> Any:
    """A copy of GX's suite result whose data-derived strings are HTML-escaped."""
    escaped = copy.deepcopy(gx_result)
    for item in escaped.results:
        config = item.expectation_config
        if config is not None:
            config.kwargs = _escaped(dict(config.kwargs))
        item.result = _escaped(item.result or {})
        item.exception_info = _escaped(item.exception_info or {})
    escaped.meta = _escaped(escaped.meta)
    return escaped


_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL | re.IGNORECASE)


def render_data_docs(result: ValidationResult, summary: str | None = None) -> str | None:
    """GX Data Docs (the validation-result page) as one inert HTML document, or None.

    None when the result has no GX object (the batch could not be read). ``summary``
    (what retrainer decided and why) is shown above GX's page.
    """
    if result.gx_object is None:
        return None
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    document = ValidationResultsPageRenderer().render(_escaped_result(result.gx_object))
    page = str(DefaultJinjaPageView().render(document))
    match = _BODY.search(page)
    body = sanitise_fragment(match.group(1) if match else page)
    e = html.escape
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{e(result.name)}: validation</title><style>{_STYLE}</style></head><body>"
        '<div class="retrainer-summary"><h2>retrainer validation</h2>'
        f"<pre>{e(summary or result.summary())}</pre></div>\n{body}\n</body></html>\n"
    )
