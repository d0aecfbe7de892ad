"""The intellimixer CLI end to end (onnxruntime, real drum samples, a tiny untrained test model)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from intellimixer import audio
from intellimixer.cli import main


def test_encode_prints_map(drums, tiny_bundle8, capsys):
    files = [str(f) for f in drums[:6]]
    assert main(["encode", *files, "--model", str(tiny_bundle8), "--dims", "2", "3", "-q"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["latent_dim"] == 8 and doc["dims"] == [2, 3]
    assert len(doc["sources"]) == 6
    z = np.array([s["latent"] for s in doc["sources"]])
    assert z.shape == (6, 8) and np.unique(z[:, 1]).size == 6  # distinct sounds, distinct points
    for s in doc["sources"]:
        assert s["x"] == s["latent"][1] and s["y"] == s["latent"][2]
        assert doc["x_range"][0] < s["x"] < doc["x_range"][1]


def test_encode_skips_bad_files_and_keeps_the_rest(drums, tiny_bundle8, tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVEjunk")
    silent = tmp_path / "silent.wav"
    silent.write_bytes(audio.write_wav(np.zeros(4000, np.float32), 16000))
    out = tmp_path / "map.json"
    assert main(["encode", str(drums[0]), str(bad), str(silent), "--model", str(tiny_bundle8), "-o", str(out), "-q"]) == 0
    doc = json.loads(out.read_text())
    assert len(doc["sources"]) == 1 and len(doc["errors"]) == 2
    assert "silent" in " ".join(doc["errors"])
    assert "skipped" in capsys.readouterr().err


def test_generate_writes_model_length_wav(drums, tiny_bundle8, tmp_path):
    out = tmp_path / "g.wav"
    files = [str(f) for f in drums[:4]]
    assert main(["generate", *files, "--model", str(tiny_bundle8), "--point", "0.1", "-0.2", "-o", str(out), "-q", "--iters", "8"]) == 0
    y, sr = sf.read(out)
    assert sr == 16000 and len(y) == 16384
    assert np.abs(y).max() > 0.05  # not silent
    assert np.abs(y).max() <= 10 ** (-0.3 / 20) + 1e-4  # the finished sound's peak ceiling
    assert y[0] == 0 and y[-1] == 0  # starts and ends at silence
    text = (tmp_path / "g-credits.txt").read_text()
    assert "Made with Audio Intellimixer" in text and "(your local file)" in text


def test_generate_json_lists_the_contributing_sources(drums, tiny_bundle8, tmp_path, capsys):
    files = [str(f) for f in drums[:12]]
    mapfile = tmp_path / "map.json"
    main(["encode", *files, "--model", str(tiny_bundle8), "-o", str(mapfile), "-q"])
    doc = json.loads(mapfile.read_text())
    assert all(np.isfinite(s["level_db"]) for s in doc["sources"])
    src = doc["sources"][4]
    # 3 % of the span from source 4 (toward the map's centre)
    x0, x1 = doc["x_range"]
    x = src["x"] + 0.03 * (x1 - x0) * (1 if src["x"] < (x0 + x1) / 2 else -1)
    out = tmp_path / "mix.wav"
    capsys.readouterr()
    assert main(["generate", str(mapfile), "--model", str(tiny_bundle8), "--point", str(x), str(src["y"]),
                 "-o", str(out), "--json", "--rate", "48000", "--format", "pcm24", "--iters", "4"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["output"] == str(out) and rep["sample_rate"] == 48000 and rep["seconds"] == pytest.approx(16384 / 16000)
    weights = [s["weight"] for s in rep["sources"]]
    assert 1 <= len(weights) <= 8 and sum(weights) == pytest.approx(1, abs=1e-5) and weights == sorted(weights, reverse=True)
    assert {s["file"] for s in rep["sources"]} <= set(files)
    info = sf.info(out)
    assert info.samplerate == 48000 and info.subtype == "PCM_24" and info.frames == round(16384 * 3)
    # the credits list exactly the contributing sources
    text = Path(rep["credits"]).read_text()
    for f in files:
        assert (Path(f).name in text) == (f in {s["file"] for s in rep["sources"]})


def test_generate_on_a_source_reproduces_it(drums, tiny_bundle8, tmp_path, capsys):
    files = [str(f) for f in drums[:3]]
    mapfile = tmp_path / "map.json"
    main(["encode", *files, "--model", str(tiny_bundle8), "-o", str(mapfile), "-q"])
    src = json.loads(mapfile.read_text())["sources"][1]
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    main(["generate", str(mapfile), "--model", str(tiny_bundle8), "--point", str(src["x"]), str(src["y"]), "-o", str(a), "-q",
          "--format", "float32"])
    main(["generate", str(mapfile), "--model", str(tiny_bundle8), "--point", str(src["x"] + 3), str(src["y"]), "-o", str(b), "-q",
          "--format", "float32"])
    from intellimixer.model import NativeModel
    from intellimixer.pipeline import latent_to_audio

    m = NativeModel(tiny_bundle8)
    expect = latent_to_audio(m, np.array(src["latent"]), level_db=src["level_db"])
    ya, _ = audio.read_wav(a.read_bytes())
    yb, _ = audio.read_wav(b.read_bytes())
    assert np.max(np.abs(ya[:, 0] - expect)) < 1e-4
    assert np.max(np.abs(yb[:, 0] - expect)) > 0.01


def test_grid_with_progress(drums, tiny_bundle8, tmp_path):
    out = tmp_path / "grid"
    r = subprocess.run(
        [sys.executable, "-m", "intellimixer", "grid", *map(str, drums[:3]), "--model", str(tiny_bundle8), "--n", "2", "--iters", "4", "-o", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, r.stderr
    wavs = sorted(out.glob("*.wav"))
    assert len(wavs) == 4
    assert "generating [" in r.stderr and "4/4" in r.stderr
    tops = [sf.read(w)[0] for w in wavs]
    assert all(len(t) == 16384 for t in tops)
    assert not np.allclose(tops[0], tops[3])


def test_bad_model_and_dims_are_clear_errors(drums, tiny_bundle8, tmp_path, capsys):
    assert main(["encode", str(drums[0]), "--model", str(tmp_path)]) == 2
    assert "manifest.json" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="dims are 1..8"):
        main(["generate", str(drums[0]), "--model", str(tiny_bundle8), "--dims", "1", "9", "--point", "0", "0", "-o", str(tmp_path / "x.wav"), "-q"])
