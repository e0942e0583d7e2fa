"""Safe Markdown: what citizens write is shown as formatted text, never as active HTML."""

from __future__ import annotations

import re

import pytest
from markupsafe import Markup

from participation.services.markup import render_markdown

HREFS = re.compile(r'href="([^"]*)"', re.IGNORECASE)
TAGS = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)\b([^>]*)>")


def tags_in(html: str) -> set[str]:
    return {name.lower() for name, _ in TAGS.findall(html)}


def test_script_tags_are_shown_as_text_and_never_as_a_script():
    html = render_markdown("Hello <script>alert('x')</script> world")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    "source",
    [
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](  javascript:alert(1))",
        "<javascript:alert(1)>",
        "[click][evil]\n\n[evil]: javascript:alert(1)",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    ],
)
def test_javascript_and_data_links_never_become_link_targets(source):
    html = render_markdown(source)
    assert all(not href.lower().startswith(("javascript", "data")) for href in HREFS.findall(html))
    assert "<a " not in html


def test_raw_html_blocks_are_escaped():
    html = render_markdown('<div class="x"><iframe src="https://evil.example"></iframe></div>')
    assert tags_in(html) == {"p"}


@pytest.mark.parametrize(
    "source",
    [
        '<b onmouseover="steal()">bold</b>',
        '<a href="https://example.org" onclick="steal()">link</a>',
        "<svg onload=steal()>",
    ],
)
def test_event_handler_attributes_never_reach_the_page(source):
    html = render_markdown(source)
    attributes = " ".join(attrs for _, attrs in TAGS.findall(html))
    assert not re.search(r"\bon[a-z]+\s*=", attributes, re.IGNORECASE)


@pytest.mark.parametrize(
    "source",
    ["![a cat](https://example.org/cat.png)", '<img src="x" onerror="steal()">'],
)
def test_images_are_not_rendered(source):
    assert "<img" not in render_markdown(source).lower()


def test_headings_are_shifted_to_start_at_h3():
    html = render_markdown("# First\n\n## Second\n\n### Third")
    assert "<h3>First</h3>" in html
    assert "<h4>Second</h4>" in html
    assert "<h5>Third</h5>" in html
    assert not tags_in(html) & {"h1", "h2"}


def test_headings_never_skip_a_level():
    html = render_markdown("## Two\n\n#### Four\n\n# One\n\n###### Six")
    assert re.findall(r"<(h\d)>", html) == ["h3", "h4", "h3", "h4"]


def test_headings_start_at_the_level_the_page_asks_for():
    html = render_markdown("### Plan\n\n#### Costs", top_level=2)
    assert re.findall(r"<(h\d)>", html) == ["h2", "h3"]


def test_deep_headings_stop_at_h6():
    html = render_markdown("# 1\n\n## 2\n\n### 3\n\n#### 4\n\n##### 5\n\n###### 6")
    assert re.findall(r"<(h\d)>", html) == ["h3", "h4", "h5", "h6", "h6", "h6"]


def test_links_get_rel_nofollow():
    html = render_markdown("[the town](https://example.org/town)")
    link = re.search(r"<a [^>]*>", html)
    assert link is not None
    assert 'href="https://example.org/town"' in link.group(0)
    assert re.search(r'rel="[^"]*\bnofollow\b[^"]*"', link.group(0))


def test_bold_italic_and_lists_survive():
    html = render_markdown("**bold** and *italic*\n\n- one\n- two\n\n1. first\n2. second")
    assert "<strong>bold</strong>" in html
    assert "<em>italic</em>" in html
    assert "<ul>" in html and "<li>one</li>" in html
    assert "<ol>" in html and "<li>second</li>" in html


def test_empty_source_renders_nothing():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


def test_result_is_marked_safe_so_templates_do_not_escape_it_twice():
    assert isinstance(render_markdown("*x*"), Markup)
