"""What a sound designer keeps: edges at silence, no DC, silence that stays silent, a level
that follows the sources, no clipping; and the export options (rate, sample format).

The real-sound checks run the committed default model on held-out recordings (files of
Debian's hydrogen-drumkits and sound-theme-freedesktop that its training never saw) through
the same path as a click on a source in the app and the CLI."""
from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from intellimixer import audio, export, finishing, pipeline, quality
from intellimixer.model import NativeModel, load_manifest

ROOT = Path(__file__).resolve().parents[1]


def test_fades_start_and_end_at_exact_silence():
    sr = 16000
    x = np.full(16000, 0.5, np.float32)  # a step at both ends: the worst case
    y = finishing.fade(x, sr)
    assert y[0] == 0.0 and y[-1] == 0.0
    a, b = round(finishing.FADE_IN_S * sr), round(finishing.FADE_OUT_S * sr)
    assert np.all(np.diff(y[:a]) >= 0) and np.all(np.diff(y[-b:]) <= 0)  # monotone ramps
    assert np.allclose(y[a:-b], 0.5)  # untouched between the fades
    assert y[a // 2] == pytest.approx(0.25, abs=0.02)  # half-Hann: half-way is half gain


def test_level_follows_the_sources_and_peaks_stay_under_the_ceiling():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(16000) * np.exp(-np.arange(16000) / 3000)).astype(np.float32)
    target = finishing.mix_level_db(np.array([-20.0, -30.0, -np.inf]), np.array([0.5, 0.5, 0.0]))
    assert target == pytest.approx(-25.0)
    y = finishing.set_level(x, target)
    assert finishing.rms_db(y) == pytest.approx(-25.0, abs=1e-3)
    loud = finishing.set_level(x, 0.0)  # a level the peak ceiling does not allow
    assert np.max(np.abs(loud)) <= 10 ** (finishing.PEAK_DBFS / 20)
    assert np.max(np.abs(loud)) == pytest.approx(10 ** (finishing.PEAK_DBFS / 20), rel=1e-5)
    assert finishing.mix_level_db(np.array([-np.inf]), np.array([1.0])) is None
    assert np.max(np.abs(finishing.set_level(x, None))) == pytest.approx(10 ** (finishing.PEAK_DBFS / 20), rel=1e-5)
    assert not np.any(finishing.set_level(np.zeros(100, np.float32), -20.0))  # silence stays silence


def test_gate_silences_the_haze_and_keeps_the_loud_part():
    S = np.full((8, 10), 0.5, np.float32)  # -40 dB everywhere (span 80 dB) ...
    S[2, 3] = 1.0  # ... under one 0 dB bin
    S[4, 4] = 0.85  # -12 dB: above the expander's knee
    g = finishing.gate(S, 80.0)
    assert g[2, 3] == 1.0 and g[4, 4] == pytest.approx(0.85)
    assert np.all(g[S == 0.5] < 0.5)  # expanded downwards ...
    S[5, 5] = 0.2  # -64 dB under the peak: below FLOOR_DB
    assert finishing.gate(S, 80.0)[5, 5] == 0.0  # ... and the deep haze is exact silence


@pytest.fixture(scope="module")
def default_model():
    return NativeModel(ROOT / "models" / "default")


def held_out_files(model, limit=None):
    from intellimixer.training.corpus import held_out_files

    files = [f.path for f in held_out_files(model.manifest, present=True)
             if f.source in ("hydrogen-drumkits", "sound-theme-freedesktop")]
    if len(files) < 10:
        pytest.skip("the held-out sounds need Debian's hydrogen-drumkits and sound-theme-freedesktop")
    return files[:: max(1, len(files) // limit)] if limit else files


def test_round_trips_of_real_held_out_sounds_are_clean(default_model):
    """Every generated sound starts and ends at 0, has no DC offset, peaks at or under
    -0.3 dBFS, and is silent where its source is (median <= -65 dB under its own peak)."""
    m = default_model.manifest
    silent, levels = [], []
    for path in held_out_files(default_model, limit=30):
        x, sr = audio.read_audio(path)
        made = pipeline.round_trip(default_model, x, sr)
        assert made[0] == 0.0 and made[-1] == 0.0, path
        # no DC offset: the DC bin is never synthesised; what the fades leave is under -46 dB of the peak
        assert abs(float(np.mean(made))) < 5e-3 * max(float(np.max(np.abs(made))), 1e-9), path
        assert np.max(np.abs(made)) <= 10 ** (finishing.PEAK_DBFS / 20), path
        r = quality.compare(x, sr, made, m.sample_rate)
        if not math.isnan(r["silent_db"]):
            silent.append(r["silent_db"])
        levels.append((finishing.rms_db(made), pipeline.source_level(x, sr, m)))
    assert len(silent) >= 10
    assert np.median(silent) <= -65.0, silent
    # the level follows the source: within 1 dB unless the peak ceiling held it lower
    for made_db, src_db in levels:
        assert made_db <= src_db + 1.0


def test_a_long_source_fades_out_where_the_model_stops(default_model):
    m = default_model.manifest
    sr = m.sample_rate
    t = np.arange(3 * sr) / sr
    x = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)  # a sustained 3 s tone
    y = pipeline.model_signal(x, sr, m)
    assert y[-1] == 0.0 and abs(y[-round(finishing.FADE_OUT_S * sr) // 2]) < 0.8 * np.max(np.abs(y))


@pytest.mark.parametrize(("fmt", "subtype"), [("pcm16", "PCM_16"), ("pcm24", "PCM_24"), ("float32", "FLOAT")])
@pytest.mark.parametrize("rate", [0, 44100, 48000])
def test_export_rates_and_formats_read_back(fmt, subtype, rate):
    sr = 16000
    t = np.arange(sr) / sr
    x = finishing.finish((0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), sr)
    wav, out_sr = export.export_wav(x, sr, rate, fmt, info={"INAM": "test sound", "ICMT": "credits here"})
    assert out_sr == (rate or sr)
    y, got_sr = sf.read(io.BytesIO(wav), dtype="float32")
    info = sf.info(io.BytesIO(wav))
    assert got_sr == out_sr and info.subtype == subtype and len(y) == round(len(x) * out_sr / sr)
    assert audio.read_info(wav)["INAM"] == "test sound"
    assert np.max(np.abs(y)) <= 10 ** (finishing.PEAK_DBFS / 20) + 1 / 32767
    assert y[0] == 0.0 and abs(y[-1]) < 1e-4
    # the tone is still a 1 kHz tone at its level (band-limited resampling)
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    assert np.argmax(spec) * out_sr / len(y) == pytest.approx(1000, abs=2)
    mid = slice(len(y) // 4, 3 * len(y) // 4)
    ref = export.resample_fft(x, sr, out_sr)[mid]
    assert np.max(np.abs(y[mid] - ref)) < (1e-6 if fmt == "float32" else 2e-4)


def test_resampling_matches_scipy_on_a_real_sound(drums):
    from scipy.signal import resample_poly

    x, sr = audio.read_audio(drums[0])
    x = finishing.fade(audio.to_mono(x)[:16000], sr)
    ours = export.resample_fft(x, sr, 48000 if sr != 48000 else 44100)
    g = math.gcd(sr, 48000 if sr != 48000 else 44100)
    theirs = resample_poly(x, (48000 if sr != 48000 else 44100) // g, sr // g)
    n = min(len(ours), len(theirs))
    err = np.sqrt(np.mean((ours[100 : n - 100] - theirs[100 : n - 100]) ** 2)) / np.sqrt(np.mean(theirs**2))
    assert err < 0.02


def test_export_refuses_what_is_not_offered():
    with pytest.raises(ValueError, match="44100"):
        export.check_options(22050, "pcm16")
    with pytest.raises(ValueError, match="pcm24"):
        export.check_options(0, "mp3")


def test_manifest_of_the_default_model_is_what_the_fades_assume():
    m = load_manifest(ROOT / "models" / "default")
    assert m.duration > finishing.FADE_IN_S + finishing.FADE_OUT_S
