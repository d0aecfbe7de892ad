"""The intellimixer CLI end to end (onnxruntime, real drum samples, a tiny untrained test model)."""
import json
import subprocess
import sys

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
    assert np.abs(y).max() > 0.5  # not silent


def test_generate_on_a_source_reproduces_it(drums, tiny_bundle8, tmp_path, capsys):
    files = [str(f) for f in drums[:3]]
    mapfile = tmp_path / "map.json"
    main(["encode", *files, "--model", str(tiny_bundle8), "-o", str(mapfile), "-q"])
    src = json.loads(mapfile.read_text())["sources"][1]
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    main(["generate", str(mapfile), "--model", str(tiny_bundle8), "--point", str(src["x"]), str(src["y"]), "-o", str(a), "-q"])
    main(["generate", str(mapfile), "--model", str(tiny_bundle8), "--point", str(src["x"] + 3), str(src["y"]), "-o", str(b), "-q"])
    from intellimixer.model import NativeModel
    from intellimixer.phase import synthesize

    m = NativeModel(tiny_bundle8)
    expect = synthesize(m.decode(np.array(src["latent"]))[0], m.manifest)
    ya, _ = audio.read_wav(a.read_bytes())
    yb, _ = audio.read_wav(b.read_bytes())
    assert np.max(np.abs(ya[:, 0] - expect)) < 1e-3
    assert np.max(np.abs(yb[:, 0] - expect)) > 0.05


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
