"""Sample packs (intellimixer.packs) through the page's operations and the CLI: the ZIP holds
the WAVs with the export options, each sound's credits, the pack's credits and a JSON with
coordinates, dims and latents; packs can be cancelled; bad requests are refused."""
from __future__ import annotations

import io
import json
import wave
import zipfile

import numpy as np
import pytest

from engine_util import burst
from intellimixer import audio, cli, packs
from intellimixer.strings import msg

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from test_service import Client, client  # noqa: E402,F401 - the fixture


def loaded(client):  # noqa: F811
    client("load_model_url", "http://127.0.0.1/models/b/manifest.json")
    batch = client("begin_local")["batch"]
    for k in range(4):
        client("add_source", batch, json.dumps({"name": f"hit {k}.wav"}), burst(k), 16000)
    client("commit_batch", batch)
    return client


def make(client, *args):  # noqa: F811
    begun = client("pack_begin", *args)
    for k in range(begun["total"]):
        step = client("pack_step", begun["pack"])
        assert (step["done"], step["total"]) == (k + 1, begun["total"])
    fields, buffers = client("pack_finish", begun["pack"])
    return begun, fields, zipfile.ZipFile(io.BytesIO(bytes(buffers["zip"])))


def test_a_grid_pack_holds_the_sounds_their_credits_and_where_they_are(client):  # noqa: F811
    loaded(client)
    client("set_dims", 2, 0)
    begun, fields, z = make(client, "grid", 3, [], 48000, "pcm24")
    assert begun["total"] == 9 and begun["name"] == msg("pack_grid_name", query="footstep", n=3, x=3, y=1)
    folder = begun["name"].replace(" ", "-").lower()
    names = z.namelist()
    wavs = sorted(n for n in names if n.endswith(".wav"))
    assert len(wavs) == 9 and all(n.startswith(folder + "/r") for n in wavs)
    assert sorted(n for n in names if n.endswith("-credits.txt")) == sorted(w[:-4] + "-credits.txt" for w in wavs)
    for w in wavs:
        y, sr = audio.read_wav(z.read(w))
        assert sr == 48000 and wave.open(io.BytesIO(z.read(w))).getsampwidth() == 3 and np.abs(y).max() > 0
        assert audio.read_info(z.read(w))["IART"]  # credits inside the file too
    meta = json.loads(z.read(f"{folder}/pack.json"))
    assert [s["file"] for s in meta["sounds"]] == [w.split("/", 1)[1] for w in wavs]
    first = meta["sounds"][0]
    assert first["dims"] == [3, 1] and len(first["latent"]) == 6
    assert first["latent"][2] == pytest.approx(first["x"], abs=1e-5) and first["latent"][0] == pytest.approx(first["y"], abs=1e-5)
    assert sum(s["share"] for s in first["sources"]) == pytest.approx(1.0)
    # the corner cells: top-left has the largest y and the smallest x (rows from the top)
    xs, ys = [s["x"] for s in meta["sounds"]], [s["y"] for s in meta["sounds"]]
    assert xs[0] < xs[2] and ys[0] > ys[6]
    credits = z.read(f"{folder}/CREDITS.txt").decode()
    assert credits.startswith(msg("pack_credits_title", name=begun["name"], count=9))
    assert all(f"hit {k}.wav" in credits for k in range(4)) and credits.count("hit 0.wav") == 1
    assert fields["filename"] == folder + ".zip" and fields["message"].startswith(f"Pack {folder}.zip ready: 9 sounds")
    assert client("map_state")["map"]["history"] == []  # grid sounds are not kept in the history


def test_a_history_pack_of_chosen_sounds(client):  # noqa: F811
    loaded(client)
    made = [client("generate", x, 0.5, k)[0]["number"] for k, x in enumerate((0.2, 0.5, 0.8))]
    begun, _, z = make(client, "history", 0, [made[0], made[2]], 0, "pcm16")
    wavs = [n for n in z.namelist() if n.endswith(".wav")]
    entries = {h["number"]: h for h in client("map_state")["map"]["history"]}
    assert sorted(n.split("/", 1)[1] for n in wavs) == sorted(entries[k]["filename"] for k in (made[0], made[2]))
    y, sr = audio.read_wav(z.read(wavs[0]))
    assert sr == 16000
    everything = make(client, "history", 0, [], 0, "float32")[0]
    assert everything["total"] == 3


def test_packs_are_cancelled_and_bad_requests_refused(client):  # noqa: F811
    loaded(client)
    begun = client("pack_begin", "grid", 2, [], 0, "pcm16")
    client("pack_step", begun["pack"])
    assert client("pack_cancel", begun["pack"])["message"] == msg("pack_cancelled")
    with pytest.raises(Exception) as exc:
        client("pack_step", begun["pack"])
    assert msg("pack_gone") in str(exc.value)
    for args, text in (((("grid", 9, [], 0, "pcm16")), msg("pack_bad_grid", max=packs.MAX_GRID)),
                       ((("history", 0, [], 0, "pcm16")), msg("pack_empty")),
                       ((("grid", 2, [], 22050, "pcm16")), "44100")):
        with pytest.raises(Exception) as exc:
            client("pack_begin", *args)
        assert text in str(exc.value)


def test_cli_grid_zip_writes_the_same_pack(tmp_path):
    from samples import drum_files

    files = drum_files()[:6]
    if len(files) < 4:
        pytest.skip("needs Debian's hydrogen-drumkits")
    out = tmp_path / "kit.zip"
    assert cli.main(["grid", *map(str, files), "--n", "2", "--zip", str(out), "-q", "--rate", "44100"]) == 0
    z = zipfile.ZipFile(out)
    wavs = [n for n in z.namelist() if n.endswith(".wav")]
    assert len(wavs) == 4 and all(n.startswith("kit/r") for n in wavs)
    assert audio.read_wav(z.read(wavs[0]))[1] == 44100
    meta = json.loads(z.read("kit/pack.json"))
    assert len(meta["sounds"]) == 4 and meta["sounds"][0]["dims"] == [1, 2]
    assert "kit/CREDITS.txt" in z.namelist()
