"""Safe Markdown: a small CommonMark subset, rendered without raw HTML and sanitised with nh3;
and plain text with clickable links, for comments."""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape

ALLOWED_TAGS = {
    "p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h2", "h3", "h4", "h5", "h6", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener ugc"  # links written by users earn no ranking and no opener

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


def render_markdown(source: str | None, top_level: int = 3) -> Markup:
    """Render user Markdown to HTML that is safe to embed in a page.

    User headings start at `top_level` (h3 under a section's h2) and never skip a level, so
    that they fit into the page's own heading order, which screen reader users navigate by.
    """
    if not source:
        return Markup("")
    tokens = _parser.parse(source)
    _fit_headings(tokens, top_level)
    html = _parser.renderer.render(tokens, _parser.options, {})
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
    )
    return Markup(cleaned)  # sanitised by nh3 just above


def _fit_headings(tokens: list[Token], top_level: int) -> None:
    """The author's highest heading becomes `top_level`; each heading goes at most one level
    deeper than the one before it, and none deeper than h6."""
    opening = [token for token in tokens if token.type == "heading_open"]
    if not opening:
        return
    highest = min(int(token.tag[1]) for token in opening)
    previous = top_level - 1
    levels = []
    for token in opening:
        wanted = top_level + int(token.tag[1]) - highest
        previous = max(top_level, min(wanted, previous + 1, 6))
        levels.append(previous)
    level_of = iter(levels)
    for token in tokens:
        if token.type == "heading_open":
            token.tag = f"h{next(level_of)}"
            current = token.tag
        elif token.type == "heading_close":
            token.tag = current


# Plain text with clickable links, for comments

_LINK = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,;:!?"


def _split_trailing(url: str) -> tuple[str, str]:
    """Keep sentence punctuation and an unmatched closing bracket out of the link."""
    tail = ""
    while url:
        last = url[-1]
        if last in _TRAILING_PUNCTUATION or (last == ")" and url.count("(") < url.count(")")):
            tail = last + tail
            url = url[:-1]
        else:
            break
    return url, tail


def render_plaintext(text: str | None) -> Markup:
    """Escape everything, link http(s) addresses and keep the writer's line breaks.

    Only http and https are linked, so `javascript:` and other schemes stay plain text.
    """
    if not text:
        return Markup("")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    parts: list[str] = []
    position = 0
    for match in _LINK.finditer(text):
        url, tail = _split_trailing(match.group(0))
        parts.append(str(escape(text[position : match.start()])))
        if url.partition("://")[2]:
            parts.append(
                f'<a href="{escape(url)}" rel="{LINK_REL}">{escape(url)}</a>{escape(tail)}'
            )
        else:
            parts.append(str(escape(match.group(0))))
        position = match.end()
    parts.append(str(escape(text[position:])))
    return Markup("".join(parts).replace("\n", "<br>\n"))  # every piece escaped above
