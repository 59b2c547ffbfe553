"""The safe fetcher against loopback servers: main text, dates and OpenGraph, PDFs, feeds, limits, and SSRF."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest

from knowledge import sources
from knowledge.sources import Limits, SourceUnavailable, fetch, read_feed, refused
from tests.fakes.web import FakeWeb, article, now, rss
from tests.knowledge.documents import make_pdf

LOOPBACK = Limits(timeout=5, max_bytes=200_000, allow_private=True)


@pytest.fixture
def web():
    with FakeWeb() as site:
        yield site


def test_a_page_gives_its_main_text_date_and_link_preview(web):
    url = web.page("/guji", article("Ethiopia Guji", "Our Ethiopia Guji is a natural from the Guji zone.\n\n"
                                    "It costs 14,50 € for 250 g.", published="2026-12-03T08:00:00Z",
                                    description="A floral natural", image="https://cdn.example/guji.jpg"))
    page = fetch(url, limits=LOOPBACK)
    assert page.kind == "html" and page.title == "Ethiopia Guji" and page.site_name == "Tidewren Roasters"
    assert "14,50 € for 250 g" in page.text and "Home" not in page.text and "©" not in page.text
    assert page.published_at == "2026-12-03" and page.description == "A floral natural"
    assert page.image_url == "https://cdn.example/guji.jpg" and page.final_url == url
    card = page.link_card()
    assert (card.url, card.title, card.description) == (url, "Ethiopia Guji", "A floral natural")


def test_redirects_are_followed_and_the_final_address_kept(web):
    target = web.page("/new", article("Moved", "The Huila decaf moved here and is roasted on Tuesdays."))
    start = web.redirect("/old", "/new")
    page = fetch(start, limits=LOOPBACK)
    assert page.url == start and page.final_url == target and web.hits["/old"] == web.hits["/new"] == 1


def test_a_pdf_is_read_through_the_pdf_reader(web, tmp_path):
    pdf = make_pdf(tmp_path / "sheet.pdf", [["Guji price sheet", "Ethiopia Guji: 14.50 EUR for 250 g."]])
    web.route("/sheet.pdf", pdf.read_bytes(), content_type="application/pdf")
    page = fetch(web.url("/sheet.pdf"), limits=LOOPBACK)
    assert page.kind == "pdf" and page.title == "Guji price sheet" and "14.50 EUR for 250 g" in page.text
    web.route("/blank.pdf", make_pdf(tmp_path / "blank.pdf", [[]]).read_bytes(), content_type="application/pdf")
    with pytest.raises(SourceUnavailable, match="no text found in the PDF"):
        fetch(web.url("/blank.pdf"), limits=LOOPBACK)


@pytest.mark.parametrize("setup, says", [
    (lambda w: w.route("/x.png", b"\x89PNG....", content_type="image/png"), "content type image/png is not HTML or PDF"),
    (lambda w: w.route("/gone", "<p>no</p>", status=410), "HTTP 410"),
    (lambda w: w.route("/big", "<p>" + "a" * 300_000 + "</p>"), "too large"),
    (lambda w: w.route("/empty", "<html><body><script>track()</script></body></html>"), "no readable text"),
])
def test_unusable_pages_say_why(web, setup, says):
    setup(web)
    path = next(iter(web.routes))
    with pytest.raises(SourceUnavailable, match=says):
        fetch(web.url(path), limits=LOOPBACK)


def test_a_server_that_drips_bytes_times_out(web):
    web.route("/slow", "<p>" + "a" * 100 + "</p>", drip=0.2)
    with pytest.raises(SourceUnavailable, match="timed out after 1 s"):
        fetch(web.url("/slow"), limits=Limits(timeout=1, allow_private=True))


def test_too_many_redirects_are_refused(web):
    for n in range(6):
        web.redirect(f"/r{n}", f"/r{n + 1}")
    with pytest.raises(SourceUnavailable, match="more than 4 redirects"):
        fetch(web.url("/r0"), limits=LOOPBACK)


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/guji", "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data/",
                                 "http://[::1]:{port}/guji", "http://192.168.1.1/", "http://100.64.0.1/", "http://0.0.0.0/",
                                 "http://[::ffff:127.0.0.1]:{port}/", "http://[fd00::1]/", "http://224.0.0.1/"])
def test_private_addresses_are_refused_by_default(web, url):
    web.page("/guji", article("Guji", "Secret intranet page with a lot of text in it."))
    port = web.base.rsplit(":", 1)[1]
    with pytest.raises(SourceUnavailable, match="refused: .* address"):
        fetch(url.format(port=port), limits=Limits(timeout=2))
    assert web.hits["/guji"] == 0


def test_a_name_that_resolves_inside_is_refused_and_never_connected_to(web, monkeypatch):
    web.page("/guji", article("Guji", "Secret intranet page with a lot of text in it."))
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real("127.0.0.1", *a, **k)
                        if host == "shop.tidewren.test" else real(host, *a, **k))
    port = web.base.rsplit(":", 1)[1]
    with pytest.raises(SourceUnavailable, match="shop.tidewren.test points to a loopback address"):
        fetch(f"http://shop.tidewren.test:{port}/guji", limits=Limits(timeout=2))
    assert web.hits["/guji"] == 0


def test_a_redirect_to_a_private_address_is_refused_at_that_hop(web, monkeypatch):
    """The first hop is public (a name made to resolve to a public address for the test, connected to the
    loopback site through the pinned address); its redirect to 169.254.169.254 is refused before connecting."""
    web.redirect("/go", "http://169.254.169.254/latest/meta-data/")
    monkeypatch.setattr(sources, "refused", lambda address: None if address == "127.0.0.1" else "private address x")
    with pytest.raises(SourceUnavailable, match="169.254.169.254 points to a private address"):
        fetch(web.url("/go"), limits=Limits(timeout=2))
    assert web.hits["/go"] == 1


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(web, monkeypatch):
    """DNS rebinding: the name resolves once; the request goes to that address with the name as Host."""
    web.page("/guji", article("Guji", "Our Ethiopia Guji is a natural from the Guji zone."))
    answers = iter(["127.0.0.1", "10.9.9.9"])  # a second lookup would get a private address
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        if host[0].isdigit():  # connecting to an address is no lookup
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    real = socket.getaddrinfo

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(sources, "refused", lambda address: None if address == "127.0.0.1" else "private address")
    port = web.base.rsplit(":", 1)[1]
    page = fetch(f"http://rebind.example:{port}/guji", limits=Limits(timeout=2))
    assert "Guji zone" in page.text and lookups == ["rebind.example"]
    assert web.hosts == [f"rebind.example:{port}"]


@pytest.mark.parametrize("address, public", [("93.184.216.34", True), ("2606:4700::1111", True), ("127.0.0.1", False),
                                             ("10.0.0.1", False), ("172.16.5.4", False), ("192.168.0.1", False),
                                             ("169.254.169.254", False), ("100.64.0.1", False), ("::1", False),
                                             ("fe80::1", False), ("fc00::1", False), ("::ffff:10.0.0.1", False),
                                             ("64:ff9b::a00:1", False), ("2002:a00:1::", False), ("0.0.0.0", False),
                                             ("::", False), ("ff02::1", False), ("239.1.1.1", False)])
def test_which_addresses_are_refused(address, public):
    assert (refused(address) is None) == public


def test_bad_addresses_are_refused_with_the_reason():
    for url, says in (("ftp://tidewren.coffee/x", "not an http"), ("https://user:pw@tidewren.coffee/", "password"),
                      ("http://tidewren.coffee:99999/", "not a web address")):
        with pytest.raises(SourceUnavailable, match=says):
            fetch(url)


def test_a_feed_lists_its_items_newest_first_with_their_dates(web):
    at = now()
    web.route("/feed.xml", rss([
        {"title": "Harvest starts in Guji", "link": "/news/guji", "description": "<p>The <b>Guji</b> harvest began.</p>",
         "published": at - timedelta(hours=3)},
        {"title": "Old news", "link": "https://news.example/old", "published": at - timedelta(days=9)},
    ]), content_type="application/rss+xml")
    items = read_feed(web.url("/feed.xml"), limits=LOOPBACK)
    assert [i.title for i in items] == ["Harvest starts in Guji", "Old news"]
    assert items[0].summary == "The Guji harvest began." and items[0].link == web.url("/news/guji")
    assert items[0].published_at == (at - timedelta(hours=3)).isoformat() and items[0].feed_title == "Coffee News"


def test_a_feed_that_is_html_is_refused(web):
    web.page("/notafeed", article("Hello", "A page, not a feed, with plenty of text."))
    with pytest.raises(SourceUnavailable, match="not an RSS or Atom feed"):
        read_feed(web.url("/notafeed"), limits=LOOPBACK)
