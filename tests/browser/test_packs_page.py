"""Sample packs in the page: a grid over the map and the history's ticked sounds come down as
one ZIP (the WAVs with the export options, their credits, the pack's credits, pack.json); the
bar moves and "cancel" stops a pack between two sounds."""
from __future__ import annotations

import io
import json
import zipfile

from browser_util import boot, make_sound, query, status, wait_idle
from intellimixer.strings import msg


def zip_of(download) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read()))


def test_grid_and_history_packs_download_as_one_zip(page, app_url, needs_numpy):
    boot(page, app_url)
    query(page, "footstep", 8)
    page.select_option("#export-rate", "48000")
    page.select_option("#pack-n", "2")
    with page.expect_download(timeout=120_000) as got:
        page.click("#pack-grid")
    z = zip_of(got.value)
    wavs = [n for n in z.namelist() if n.endswith(".wav")]
    assert len(wavs) == 4 and got.value.suggested_filename.endswith(".zip")
    meta = json.loads(z.read(next(n for n in z.namelist() if n.endswith("pack.json"))))
    assert [s["dims"] for s in meta["sounds"]] == [[1, 2]] * 4 and len(meta["sounds"][0]["latent"]) >= 2
    assert any(n.endswith("/CREDITS.txt") for n in z.namelist())
    assert int.from_bytes(z.read(wavs[0])[24:28], "little") == 48000  # the export option
    state, text = wait_idle(page)
    assert state == "ready" and text.startswith("Pack ")
    assert page.locator("#history li").count() == 0  # grid sounds stay out of the history
    # the history's ticked sounds
    for k in range(3):
        make_sound(page, k + 1)
    page.check("#history li:nth-child(1) input.pick")
    page.check("#history li:nth-child(3) input.pick")
    with page.expect_download(timeout=60_000) as got:
        page.click("#pack-history")
    names = sorted(n.rsplit("/", 1)[1] for n in zip_of(got.value).namelist() if n.endswith(".wav"))
    hist = page.evaluate("window.intellimixer.state.map.history")
    assert names == sorted([hist[2]["filename"], hist[0]["filename"]])
    assert not page.errors


def test_a_pack_can_be_cancelled(page, app_url, needs_numpy):
    boot(page, app_url)
    query(page, "footstep", 8)
    page.select_option("#pack-n", "8")
    page.click("#pack-grid")
    page.wait_for_selector("#pack-cancel", state="visible")
    page.wait_for_function("document.getElementById('progress').value >= 2")
    page.click("#pack-cancel")
    wait_idle(page, timeout=60_000)
    assert status(page) == ("ready", msg("pack_cancelled"))
    assert page.is_hidden("#pack-cancel")
    assert not page.errors


def test_a_sound_drags_out_as_its_wav(page, app_url, needs_numpy):
    boot(page, app_url)
    query(page, "footstep", 6)
    entry = make_sound(page, 1)
    payload = page.evaluate("""() => {
        const out = {};
        for (const sel of ['#download', '#history li']) {
            const dt = new DataTransfer();
            document.querySelector(sel).dispatchEvent(new DragEvent('dragstart', { dataTransfer: dt, bubbles: true }));
            out[sel] = [dt.getData('DownloadURL'), dt.getData('text/plain')];
        }
        return out;
    }""")
    href = page.evaluate("new URL(document.getElementById('download').href, location.href).href")
    for sel in ("#download", "#history li"):
        url, text = payload[sel]  # (effectAllowed is only writable in a real drag)
        assert url == f"audio/wav:{entry['filename']}:{href}" and text == entry["filename"]
    assert page.get_attribute("#download", "draggable") == "true"
