"""Sessions saved in the browser (static/sessions.js, static/store.js, intellimixer.persist):
a reload brings back the map, its sources, dims, settings and made sounds; a second tab gets
a session of its own; sessions can be started, opened and deleted; a full disk is reported
and loses nothing saved; stored sessions the app cannot read are kept and named."""
from __future__ import annotations

import json

import pytest

from browser_util import blob_bytes, boot, make_sound, query, status, wait_idle
from intellimixer.strings import LIMITS, msg

N = 6


def idle(page):
    page.evaluate("window.intellimixer.sessions.idle()")


def said(page, text, state=None):
    """Waits until the status panel says ``text``; returns its state."""
    page.wait_for_function("(t) => document.getElementById('status-message').textContent === t", arg=text)
    got = page.get_attribute("#status", "data-state")
    assert state is None or got == state, got
    return got


def snapshot(page) -> dict:
    return page.evaluate("""() => { const m = window.intellimixer.state.map; return {
        dims: m.dims, query: m.query, include_declined: m.include_declined,
        points: m.points.map((p) => [p.key, p.name, p.nx.toFixed(6), p.ny.toFixed(6)]),
        generated: m.generated, history: m.history }; }""")


def stored_counts(page) -> dict:
    """What IndexedDB holds, read with the plain API (not the app's code)."""
    return page.evaluate("""() => new Promise((resolve, reject) => {
        const req = indexedDB.open("intellimixer");
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
            const db = req.result, tx = db.transaction(["sessions", "sources", "sounds"]), out = {};
            for (const name of ["sessions", "sources", "sounds"]) {
                const r = tx.objectStore(name).count(); r.onsuccess = () => { out[name] = r.result; };
            }
            tx.oncomplete = () => { db.close(); resolve(out); };
        };
    })""")


@pytest.fixture
def worked(page, app_url, needs_numpy):
    """A session with work in it: a search, dims 3/2, a setting, two sounds kept (of three)."""
    boot(page, app_url)
    assert query(page, "footstep", N)[0] == "ready"
    page.select_option("#x-dim", "2")
    page.select_option("#y-dim", "1")
    wait_idle(page)
    page.check("#genai-only")
    page.select_option("#export-format", "pcm24")
    for k in range(3):
        make_sound(page, k + 1)
    third = page.evaluate("window.intellimixer.state.map.history.at(-1).number")
    page.click(f"#history-{third - 1} button[data-action=delete]")
    page.wait_for_function("window.intellimixer.state.map.history.length === 2")
    wait_idle(page)
    idle(page)
    return page


def test_a_reload_brings_back_the_whole_session(worked):
    page = worked
    before = snapshot(page)
    wav = blob_bytes(page, "#download")
    assert stored_counts(page) == {"sessions": 1, "sources": N, "sounds": 2}
    page.reload()
    page.evaluate("window.intellimixer.ready")
    state, text = status(page)
    assert state == "ready" and text.startswith(msg("restored", query="footstep", sources=N, sounds=2)), text
    after = snapshot(page)
    assert after == before
    assert page.input_value("#x-dim") == "2" and page.input_value("#y-dim") == "1"
    assert page.is_checked("#genai-only") and page.input_value("#export-format") == "pcm24"
    assert page.input_value("#token") == ""  # the token is not part of a session
    # the made sounds are back with their audio and links: the panel shows the last one
    assert blob_bytes(page, "#download") == wav
    assert page.locator("#history li").count() == 2 and page.is_visible("#copy-link")
    # sources play from their stored audio, and work goes on where it was
    page.evaluate("window.intellimixer.resetStats()")
    n = make_sound(page, 3)["number"]
    assert n == before["history"][-1]["number"] + 1
    idle(page)
    assert stored_counts(page)["sounds"] == 3
    assert not page.errors


def test_a_second_tab_gets_its_own_session_and_can_open_the_first_later(worked, app_url):
    first = worked
    second = first.context.new_page()
    boot(second, app_url)
    assert status(second) == ("warn", msg("session_locked"))
    assert second.get_attribute("#map", "data-points") == "0"
    options = second.eval_on_selector_all("#session-list option", "os => os.map((o) => o.textContent)")
    assert len(options) == 1 and options[0].endswith("(open in another tab)")
    # opening it while the first tab has it is refused; once that tab is gone it opens
    second.select_option("#session-list", index=0)
    second.click("#session-open")
    said(second, msg("session_opened_elsewhere"), "warn")
    expected = snapshot(first)
    first.close()
    second.click("#session-open")  # (a closed tab's lock goes a moment later: open waits for it)
    wait_idle(second)
    assert status(second)[1].startswith(msg("restored", query="footstep", sources=N, sounds=2))
    assert snapshot(second) == expected


def test_new_open_and_delete_sessions(worked):
    page = worked
    old = snapshot(page)
    page.click("#session-new")
    wait_idle(page)
    assert status(page)[1].startswith(msg("session_new"))
    assert page.get_attribute("#map", "data-points") == "0" and page.locator("#history li").count() == 0
    assert page.is_hidden("#download") and page.is_hidden("#copy-link")
    assert page.inner_text("#generated-info").startswith("Click on an empty part of the map")
    # the new one is saved once it holds something; the old one stays, and can be opened again
    query(page, "footstep", 3)
    idle(page)
    assert stored_counts(page)["sessions"] == 2
    labels = page.eval_on_selector_all("#session-list option", "os => os.map((o) => o.textContent)")
    assert sum(label.endswith("(this tab)") for label in labels) == 1
    other = page.eval_on_selector_all("#session-list option", "os => os.filter((o) => !o.textContent.endsWith('(this tab)')).map((o) => o.value)")[0]
    page.select_option("#session-list", other)
    page.click("#session-open")
    wait_idle(page)
    assert snapshot(page) == old
    # the one this tab works in cannot be deleted; the other can, with everything it holds
    page.select_option("#session-list", page.evaluate("window.intellimixer.sessions.id"))
    page.click("#session-delete")
    said(page, msg("session_delete_current"), "warn")
    gone = page.eval_on_selector_all("#session-list option", "os => os.filter((o) => !o.textContent.endsWith('(this tab)')).map((o) => o.value)")[0]
    page.select_option("#session-list", gone)
    page.click("#session-delete")
    page.wait_for_function("document.querySelectorAll('#session-list option').length === 1")
    assert status(page)[1].startswith("Deleted the saved session “footstep”")
    assert stored_counts(page) == {"sessions": 1, "sources": N, "sounds": 2}


def test_a_full_disk_is_reported_and_loses_nothing_saved(worked):
    page = worked
    # the browser's quota runs out: every put fails as Chromium's does
    page.evaluate("""() => {
        const put = IDBObjectStore.prototype.put;
        window.__realPut = put;
        IDBObjectStore.prototype.put = function () {
            throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
        };
    }""")
    make_sound(page, 3)
    page.wait_for_function("document.getElementById('status').dataset.state === 'error'")
    assert status(page) == ("error", msg("save_quota"))
    assert stored_counts(page) == {"sessions": 1, "sources": N, "sounds": 2}  # what was saved stays
    # room again: the next change saves what was missing too
    page.evaluate("() => { IDBObjectStore.prototype.put = window.__realPut; }")
    make_sound(page, 4)
    idle(page)
    assert stored_counts(page)["sounds"] == 4
    assert not page.errors


def test_over_the_storage_bound_the_oldest_sessions_are_offered(page, app_url, needs_numpy):
    # a bound of 1 kB (instead of LIMITS["max_store_mb"]): every session is over it
    def small_bound(route):
        data = json.loads(route.fetch().text())
        data["limits"]["max_store_mb"] = 0.001
        route.fulfill(json=data)

    assert LIMITS["max_store_mb"] >= 100
    page.route("**/strings.json", small_bound)
    boot(page, app_url)
    query(page, "footstep", 3)
    idle(page)
    # said once when the bound is passed (not at every save after it), and shown in the panel
    assert status(page)[0] == "warn" and "more than the 1 kB this app keeps" in status(page)[1]
    assert page.get_attribute("#storage-info", "data-over") == "true"
    assert page.is_hidden("#delete-oldest")  # nothing to offer: the only session is this tab's
    page.click("#session-new")
    wait_idle(page)
    query(page, "footstep", 2)
    idle(page)
    offer = page.inner_text("#delete-oldest")
    assert offer.startswith("delete the 1 oldest")
    page.click("#delete-oldest")
    page.wait_for_function("document.querySelectorAll('#session-list option').length === 1")
    assert stored_counts(page)["sessions"] == 1 and page.is_hidden("#delete-oldest")  # only this tab's is left


def test_a_session_saved_by_a_newer_version_is_kept_and_named(worked):
    page = worked
    page.evaluate("""() => new Promise((resolve, reject) => {
        const req = indexedDB.open("intellimixer");
        req.onsuccess = () => {
            const db = req.result, tx = db.transaction("sessions", "readwrite"), store = tx.objectStore("sessions");
            const all = store.getAll();
            all.onsuccess = () => { for (const s of all.result) { s.record.version = 99; store.put(s); } };
            tx.oncomplete = () => { db.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
        };
    })""")
    page.evaluate("window.intellimixer.sessions.idle()")
    page.reload()
    page.evaluate("window.intellimixer.ready")
    state, text = status(page)
    assert state == "error"
    assert text == msg("restore_failed", error=msg("store_newer", what=msg("store_what_session"), version=99, ours=1))
    assert page.get_attribute("#map", "data-points") == "0"
    assert stored_counts(page) == {"sessions": 1, "sources": N, "sounds": 2}  # kept as it was
