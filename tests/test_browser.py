"""The web views in a real browser: headless Chromium (Debian's ``chromium``
and ``chromium-driver``, installed by ``tools/install-browser``) driven by
selenium, against the real app served over HTTP on the private Redis.

Screenshots are kept as artifacts in ``$DEDUP_TEST_ARTIFACTS`` (default:
``tmp/artifacts`` in the checkout); each test prints where.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("DEDUP_TEST_ARTIFACTS", ROOT / "tmp" / "artifacts"))
_MISSING = ("headless Chromium is not installed: run tools/install-browser "
            "(Debian: apt-get install chromium chromium-driver) and pip install selenium (the test extra)")

webdriver = pytest.importorskip("selenium.webdriver", reason=_MISSING)
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BODY = ("The central bank raised interest rates by a quarter point on Thursday, its third increase this year, "
        "citing stubborn inflation in services and a labour market that has barely cooled. Officials said further "
        "moves would depend on the data, and markets priced in one more rise before the summer, while the "
        "currency rose 0.4% against the dollar. ")
ORIGINAL = BODY * 2 + "\nCopyright 2024 The Associated Press. All rights reserved."
COPY = ("FRANKFURT (Reuters) - " + BODY.replace("quarter point", "\u201cquarter point\u201d")
        + BODY.replace("citing stubborn inflation in services", "pointing to stubborn price pressures in services")
        + "\nAdvertisement")


def _browser(javascript: bool = True):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_bin = shutil.which("chromedriver")
    if not chromium or not driver_bin:
        pytest.skip(_MISSING)
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1100",
                "--hide-scrollbars"):
        opts.add_argument(arg)
    if not javascript:
        opts.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver_bin), options=opts)


@pytest.fixture
def browser():
    b = _browser()
    yield b
    b.quit()


@pytest.fixture
def no_js_browser():
    b = _browser(javascript=False)
    yield b
    b.quit()


def _serve(app):
    from werkzeug.serving import make_server

    from conftest import free_port

    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def served(app):
    server, url = _serve(app)
    yield url
    server.shutdown()


@pytest.fixture
def served_with_keys(redis_server, namespace):
    from dedup_service.app import create_app

    app = create_app({"REDIS_URL": redis_server.url, "DEFAULT_NAMESPACE": namespace, "CAPACITY": 1000,
                      "API_KEYS": {"sesame": [namespace]}})
    server, url = _serve(app)
    yield url
    server.shutdown()
    app.extensions["dedup"].close()


def screenshot(browser, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(max(height + 40, 800), 4000))
    browser.save_screenshot(str(path))
    print(f"screenshot: {path}")
    assert path.stat().st_size > 10_000
    return path


def submit(browser, button_value: str, **fields) -> None:
    """Fill the form and press a button; wait for the script to put the answer in place."""
    for name, value in fields.items():
        el = browser.find_element(By.NAME, name)
        el.clear()
        if value:
            browser.execute_script("arguments[0].value = arguments[1]", el, value)  # long texts: faster than typing
    before = browser.find_element(By.ID, "result").get_attribute("data-loaded")
    browser.find_element(By.CSS_SELECTOR, f'#ask button[value="{button_value}"]').click()
    WebDriverWait(browser, 20).until(
        lambda b: b.find_element(By.ID, "result").get_attribute("data-loaded") not in (None, before))


def test_a_copy_is_shown_beside_the_original_with_passages_highlighted(browser, served, client):
    browser.get(served + "/")
    submit(browser, "add", id="ap-1", text=ORIGINAL, title="Rates rise again", source="AP")
    assert "No duplicate found" in browser.find_element(By.ID, "result").text
    submit(browser, "check", id="", text=COPY, title="", source="")
    dup = WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, '.dup[data-id="ap-1"]')))
    assert dup.find_element(By.CSS_SELECTOR, ".kind").text == "near"
    assert any("pointing to" in d.text for d in dup.find_elements(By.CSS_SELECTOR, ".side .diff"))
    mine = dup.find_elements(By.CSS_SELECTOR, ".side")[0]
    marks = mine.find_elements(By.CSS_SELECTOR, "mark.match")
    assert marks and "interest rates" in " ".join(m.text for m in marks)
    assert marks[0].value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"  # highlighted, as rendered
    removed = mine.find_elements(By.CSS_SELECTOR, ".removed")
    assert any("FRANKFURT" in r.text for r in removed) and any("Advertisement" in r.text for r in removed)
    theirs = dup.find_elements(By.CSS_SELECTOR, ".side")[1]
    if client.get("/v1/articles/ap-1?text=true").get_json().get("text"):  # a store that keeps texts: both sides
        assert "interest rates" in " ".join(m.text for m in theirs.find_elements(By.CSS_SELECTOR, "mark.match"))
        assert any("Associated Press" in r.text for r in theirs.find_elements(By.CSS_SELECTOR, ".removed"))
        assert "Rates rise again" in dup.text
    else:
        assert "original text not available" in theirs.text
    assert browser.current_url.rstrip("/") == served  # answered in place by the script: no navigation
    screenshot(browser, "web-page.png")


def test_the_key_typed_in_the_page_is_sent_as_a_header(browser, served_with_keys):
    browser.get(served_with_keys + "/")
    submit(browser, "add", id="k-1", text=ORIGINAL, key="wrong")
    assert "unknown API key" in browser.find_element(By.ID, "result").text
    submit(browser, "add", id="k-1", text=ORIGINAL, key="sesame")
    submit(browser, "check", id="", text=COPY, key="sesame")
    assert browser.find_elements(By.CSS_SELECTOR, '.dup[data-id="k-1"]')
    assert browser.get_cookies() == []


def test_markup_in_an_article_shows_as_text(browser, served, client):
    evil = "<script>document.title='owned'</script><img src=x onerror=\"document.title='owned'\">"
    client.post("/v1/articles", json={"id": "evil", "text": BODY * 2 + evil, "title": evil})
    browser.get(served + "/")
    submit(browser, "check", text=BODY * 2 + evil)
    result = browser.find_element(By.ID, "result")
    assert "<script>document.title='owned'</script>" in result.text
    assert browser.title != "owned" and not browser.find_elements(By.CSS_SELECTOR, "#result img, #result script")


def test_the_form_works_without_javascript(no_js_browser, served, client):
    client.post("/v1/articles", json={"id": "plain-1", "text": ORIGINAL})
    b = no_js_browser
    b.get(served + "/")
    b.find_element(By.NAME, "text").send_keys(COPY[:2000])
    b.find_element(By.CSS_SELECTOR, '#ask button[value="check"]').click()
    dup = WebDriverWait(b, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, '.dup[data-id="plain-1"]')))
    assert dup.find_elements(By.CSS_SELECTOR, "mark.match")
    page = b.find_element(By.TAG_NAME, "html")
    b.find_element(By.CSS_SELECTOR, '.dup button').click()  # "look it up": a form of the answer, without the script
    WebDriverWait(b, 10).until(EC.staleness_of(page))  # the answer page, not the one that had the form
    WebDriverWait(b, 10).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#result h2"), "plain-1"))


def test_a_batch_report_opens_and_paints(browser, tmp_path):
    from click.testing import CliRunner

    from dedup.cli import cli

    stories = [BODY, ("Flooding along the river forced thousands of residents from their homes overnight as emergency crews "
                      "worked to shore up levees that officials said were close to failing, and schools stayed shut. ")]
    rows = [{"id": f"s{i}-{k}", "text": f"{city} (AP) - " + stories[i] * 2, "title": f"Story {i}", "source": city.title()}
            for i in range(2) for k, city in enumerate(["PARIS", "LONDON", "ROME"][: 3 - i])]
    src = tmp_path / "dump.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "report.html"
    r = CliRunner().invoke(cli, ["batch", str(src), "--html", str(out), "--quiet", "--jobs", "1"])
    assert r.exit_code == 0, r.output
    browser.get(out.as_uri())
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("dedup batch report")
    assert len(browser.find_elements(By.CSS_SELECTOR, "section.cluster")) == 2
    assert browser.find_elements(By.CSS_SELECTOR, "section.cluster mark.match")
    paint = browser.execute_script(
        "return performance.getEntriesByType('paint').map(function (e) { return [e.name, e.startTime]; })")
    assert dict(paint).get("first-contentful-paint", 0) > 0
    screenshot(browser, "batch-report.png")


def click_and_wait(browser, element) -> None:
    """Press a button of the answer (a small form): wait for the script to put the next answer in place."""
    before = browser.find_element(By.ID, "result").get_attribute("data-loaded")
    element.click()
    WebDriverWait(browser, 20).until(
        lambda b: b.find_element(By.ID, "result").get_attribute("data-loaded") not in (None, before))


def test_not_a_duplicate_marked_on_the_page_is_respected_by_the_next_add(browser, served, client):
    browser.get(served + "/")
    submit(browser, "add", id="ap-1", text=ORIGINAL, title="Rates rise again", source="AP")
    submit(browser, "add", id="ap-2", text="ROME (AP) - " + ORIGINAL, title="Rates rise, again", source="AP Rome")
    submit(browser, "check", id="copy-1", text=COPY, title="Bank lifts rates", source="Reuters")
    dup = WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, '.dup[data-id="ap-1"]')))
    click_and_wait(browser, dup.find_element(By.CSS_SELECTOR, "form.not-dup button"))
    assert "ap-1 and copy-1 are not duplicates" in browser.find_element(By.ID, "decided").text
    submit(browser, "add", id="copy-1", text=COPY, title="Bank lifts rates", source="Reuters")
    assert "No duplicate found" in browser.find_element(By.ID, "result").text  # its story's copies stay apart too
    assert client.get("/v1/clusters/copy-1").json["size"] == 1
    submit(browser, "story", id="ap-1")
    rows = browser.find_elements(By.CSS_SELECTOR, "#story tr")
    click_and_wait(browser, next(r for r in rows if r.text.startswith("ap-2")).find_element(
        By.XPATH, ".//form[input[@value='canonical']]/button"))
    assert "ap-2 is its story's canonical copy" in browser.find_element(By.ID, "decided").text
    assert "(canonical)" in next(r for r in browser.find_elements(By.CSS_SELECTOR, "#story tr") if r.text.startswith("ap-2")).text
    screenshot(browser, "web-decisions.png")
    submit(browser, "search", q="rates ag")
    found = browser.find_element(By.ID, "search-results").text
    assert "ap-1" in found and "ap-2" in found and "copy-1" not in found
    submit(browser, "activity")
    recent = browser.find_element(By.ID, "recent").text
    assert recent.index("copy-1") < recent.index("ap-2") < recent.index("ap-1")  # newest first
