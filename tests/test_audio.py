"""WAV in/out, preparation and the errors bad audio gives."""
import io
import wave

import numpy as np
import pytest
import soundfile as sf

from intellimixer import audio


def tone(n=4000, sr=16000, f=440.0, amp=0.5):
    return (amp * np.sin(2 * np.pi * f * np.arange(n) / sr)).astype(np.float32)


def test_written_wav_reads_back_identically_with_wave_and_soundfile():
    x = tone()
    data = audio.write_wav(x, 16000)
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 16000, len(x))
        pcm = np.frombuffer(w.readframes(len(x)), dtype="<i2")
    assert np.array_equal(pcm, np.round(x * 32767).astype(np.int16))
    y, sr = sf.read(io.BytesIO(data), dtype="int16")
    assert sr == 16000 and np.array_equal(y, pcm)
    z, sr2 = audio.read_wav(data)
    assert sr2 == 16000 and np.array_equal(np.round(z[:, 0] * 32768).astype(np.int16), pcm)


def test_info_chunk_round_trip_and_still_valid_for_other_readers():
    x = tone()
    info = {"INAM": "footstep x0.50 y-1.20", "IART": "Audio Intellimixer", "ICMT": "Kick by ana -- CC BY 4.0 (ünïcode)"}
    data = audio.write_wav(x, 16000, info=info)
    assert audio.read_info(data) == info
    y, sr = sf.read(io.BytesIO(data), dtype="int16")
    assert len(y) == len(x)
    with wave.open(io.BytesIO(data)) as w:
        assert w.getnframes() == len(x)
    assert int.from_bytes(data[4:8], "little") == len(data) - 8


@pytest.mark.parametrize("subtype,tol", [("PCM_U8", 1 / 100), ("PCM_16", 1e-4), ("PCM_24", 1e-6), ("PCM_32", 1e-8), ("FLOAT", 1e-7), ("DOUBLE", 1e-7)])
def test_reads_every_common_wav_encoding(subtype, tol):
    x = np.stack([tone(), -tone(f=220)], axis=1)
    buf = io.BytesIO()
    sf.write(buf, x, 22050, subtype=subtype, format="WAV")
    y, sr = audio.read_wav(buf.getvalue())
    assert sr == 22050 and y.shape == x.shape and y.dtype == np.float32
    assert np.max(np.abs(y - x)) < tol


def extensible_wav(x: np.ndarray, sr: int) -> bytes:
    """16-bit PCM in a WAVE_FORMAT_EXTENSIBLE header (as many recorders write it)."""
    import struct

    ch = x.shape[1]
    pcm = np.round(x * 32767).astype("<i2").tobytes()
    guid = struct.pack("<H", 1) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    fmt = struct.pack("<HHIIHHHHI", 0xFFFE, ch, sr, sr * 2 * ch, 2 * ch, 16, 22, 16, 0) + guid
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_reads_wave_format_extensible():
    x = np.stack([tone(), -tone(), tone(f=100)], axis=1)
    data = extensible_wav(x, 16000)
    assert sf.info(io.BytesIO(data)).channels == 3  # a valid file for other readers too
    y, sr = audio.read_wav(data)
    assert sr == 16000 and y.shape == (4000, 3) and np.max(np.abs(y - x)) < 1e-4


def test_real_recorded_files_read(drums):
    for f in drums[:5]:
        x, sr = audio.read_wav(f)
        ref, sr2 = sf.read(f, dtype="float32", always_2d=True)
        assert sr == sr2 and x.shape == ref.shape and np.max(np.abs(x - ref)) < 1e-4


@pytest.mark.parametrize(
    "data,err,msg",
    [
        (b"", audio.EmptyAudioError, "empty"),
        (b"hello world, not audio at all", audio.CorruptAudioError, "not a"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", audio.CorruptAudioError, "WAV"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), audio.CorruptAudioError, "not a"),
    ],
)
def test_corrupt_and_empty_bytes_raise_clear_errors(data, err, msg):
    with pytest.raises(err, match=msg):
        audio.read_wav(data)


def test_truncated_and_zero_sample_wav():
    good = audio.write_wav(tone(), 16000)
    with pytest.raises(audio.AudioError):
        audio.read_wav(good[:30])
    with pytest.raises(audio.EmptyAudioError, match="no samples"):
        audio.read_wav(audio.write_wav(np.zeros(0, np.float32), 16000))


def test_prepare_errors_silent_and_empty():
    with pytest.raises(audio.SilentAudioError, match="silent"):
        audio.prepare(np.zeros(8000, np.float32), 16000, 16000, 16384)
    with pytest.raises(audio.SilentAudioError):
        audio.prepare(np.full(8000, 1e-5, np.float32), 16000, 16000, 16384)
    with pytest.raises(audio.EmptyAudioError):
        audio.prepare(np.zeros(0, np.float32), 16000, 16000, 16384)
    with pytest.raises(audio.CorruptAudioError, match="NaN"):
        audio.prepare(np.array([0.1, np.nan] * 100, np.float32), 16000, 16000, 16384)
    assert issubclass(audio.SilentAudioError, ValueError)


def test_prepare_mono_resample_onset_length_and_peak():
    sr = 44100
    x = np.zeros((sr, 2), np.float32)
    x[int(0.3 * sr) : int(0.5 * sr), 0] = tone(int(0.2 * sr), sr, 1000, 0.2)
    y = audio.prepare(x, sr, 16000, 16384)
    assert y.shape == (16384,) and y.dtype == np.float32
    assert abs(np.abs(y).max() - 0.99) < 1e-6
    # onset moved to the start: 0.2 s of tone at 16 kHz = 3200 samples of signal first
    assert np.abs(y[:64]).max() > 0.1 and np.abs(y[4000:]).max() < 0.05


def test_fit_length_and_normalisers():
    x = np.ones(100, np.float32)
    assert audio.fit_length(x, 150)[100:].tolist() == [0.0] * 50
    cut = audio.fit_length(x, 80)
    assert len(cut) == 80 and cut[-1] == 0.0 and cut[0] == 1.0
    assert abs(np.sqrt(np.mean(audio.normalize_rms(tone(), -20) ** 2)) - 0.1) < 1e-3
    assert audio.is_silent(np.zeros(10)) and not audio.is_silent(tone())


def test_read_audio_ogg_via_soundfile():
    from samples import FREEDESKTOP

    files = sorted(FREEDESKTOP.glob("*.oga"))
    if not files:
        pytest.skip("Debian package sound-theme-freedesktop is not installed")
    x, sr = audio.read_audio(files[0])
    assert sr > 0 and x.ndim == 2 and x.shape[0] > 1000
