"""Nothing is loaded from another origin: no CDN fonts or scripts, no analytics, no pixels.

Every request the browser makes (pages, styles, scripts, images, fonts, favicons, fetches,
from every frame and worker of the context) is recorded while a patient books, manages the
consult and fills in the whole questionnaire, and while an admin goes through the console.
Each must go to the site's own origin. JavaScript is on, so anything a script would load is
loaded. Some ways of reaching another origin make no request the page can see (a preconnect or
DNS prefetch hint, a form posting elsewhere), so each page's elements that load or send are
also checked for addresses elsewhere. Plain links to other sites (a video-call link) are fine.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.support.browser import Page, watch_for_trouble
from tests.support.site_walk import (
    new_page,
    serve_site,
    walk_errors,
    walk_intake,
    walk_public,
    walk_staff,
)

pytestmark = pytest.mark.browser

# Every address an element of the page loads from or sends to, resolved against the page.
ADDRESSES = """() => Array.from(document.querySelectorAll(
        "link[href], script[src], img[src], img[srcset], source[src], source[srcset], "
        + "iframe[src], embed[src], object[data], video[src], video[poster], audio[src], "
        + "track[src], form[action], button[formaction], input[formaction]"))
    .flatMap(e => ["href", "src", "data", "poster", "action", "formaction"]
        .map(name => e.getAttribute(name))
        .concat((e.getAttribute("srcset") || "").split(",").map(s => s.trim().split(" ")[0])))
    .filter(u => u)
    .map(u => new URL(u, document.baseURI).href)"""


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_every_request_goes_to_the_site_itself(browser, sqlite_template, tmp_path):
    with serve_site(sqlite_template, tmp_path) as site:
        context, page = new_page(browser)
        requests: list[str] = []
        context.on("request", lambda request: requests.append(request.url))
        pages: list[str] = []
        addresses: set[str] = set()

        def visit(page: Page, label: str) -> None:
            pages.append(label)
            addresses.update(page.evaluate(ADDRESSES))

        try:
            trouble = watch_for_trouble(page)
            token = walk_public(page, site, visit)
            walk_intake(page, site, token, visit)
            walk_errors(page, site, visit)
            walk_staff(page, site, visit)
            assert not trouble, trouble
        finally:
            context.close()

    # The walk went everywhere it should, and asked for styles and scripts along the way.
    assert len(pages) == 8 + 26 + 2 + 17, pages
    paths = {urlsplit(url).path for url in requests}
    assert {"/static/css/site.css", "/static/js/timezone.js", "/static/js/intake.js"} <= paths
    elsewhere = sorted({url for url in requests if origin(url) != site.url})
    assert elsewhere == [], elsewhere
    assert site.url + "/static/css/site.css" in addresses
    pointing_elsewhere = sorted({url for url in addresses if origin(url) != site.url})
    assert pointing_elsewhere == [], pointing_elsewhere
