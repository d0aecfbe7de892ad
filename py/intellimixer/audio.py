"""Audio in/out: WAV bytes, mono mix-down, trimming, normalisation, silence detection.

Audio arrays are float32 in [-1, 1]: ``[n_samples]`` for mono, ``[n_samples, channels]``
for multichannel.  WAV is read and written with the standard library's :mod:`wave`
(PCM 8/16/24/32-bit); IEEE-float and WAVE_FORMAT_EXTENSIBLE files, which :mod:`wave`
rejects on Python 3.11, are read by walking the RIFF chunks.  Resampling uses
``scipy.signal.resample_poly`` and is only for CPython: in the browser WebAudio decodes
and resamples to the model's rate before Python sees the samples.
"""
from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

import numpy as np


class AudioError(ValueError):
    """Audio that cannot be used; the message says why, for the user."""


class CorruptAudioError(AudioError):
    """Bytes that are not a readable audio file."""


class EmptyAudioError(AudioError):
    """Audio with no samples."""


class SilentAudioError(AudioError):
    """Audio whose level never rises above the silence threshold."""


_WAVE_FORMAT_PCM = 1
_WAVE_FORMAT_FLOAT = 3
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE


def _pcm_to_float(raw: bytes, width: int, channels: int) -> np.ndarray:
    """Interleaved PCM bytes -> float32 ``[n, channels]``."""
    if width == 1:  # 8-bit WAV is unsigned
        a = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        a = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8)
        b = b[: len(b) - len(b) % 3].reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        a = v.astype(np.float32) / float(1 << 23)
    elif width == 4:
        a = (np.frombuffer(raw, dtype="<i4").astype(np.float64) / 2147483648.0).astype(np.float32)
    else:
        raise CorruptAudioError(f"unsupported WAV sample width: {width * 8} bits")
    n = len(a) // channels
    return a[: n * channels].reshape(n, channels)


def _riff_chunks(data: bytes):
    """Yield ``(chunk_id, payload)`` of a RIFF/WAVE file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise CorruptAudioError("not a WAV file (no RIFF/WAVE header)")
    pos = 12
    while pos + 8 <= len(data):
        cid, size = struct.unpack("<4sI", data[pos : pos + 8])
        yield cid, data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)


def _read_wav_chunks(data: bytes) -> tuple[np.ndarray, int]:
    """Fallback reader for formats :mod:`wave` rejects (float, extensible)."""
    fmt = payload = None
    for cid, chunk in _riff_chunks(data):
        if cid == b"fmt ":
            fmt = chunk
        elif cid == b"data":
            payload = chunk
    if fmt is None or len(fmt) < 16 or payload is None:
        raise CorruptAudioError("WAV file is missing its fmt or data chunk")
    tag, channels, sr, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == _WAVE_FORMAT_EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]  # first two bytes of the sub-format GUID
    if channels < 1 or sr < 1:
        raise CorruptAudioError("WAV header has no channels or no sample rate")
    if tag == _WAVE_FORMAT_FLOAT and bits in (32, 64):
        a = np.frombuffer(payload[: len(payload) - len(payload) % (bits // 8)], dtype=f"<f{bits // 8}")
        n = len(a) // channels
        return a[: n * channels].reshape(n, channels).astype(np.float32), sr
    if tag == _WAVE_FORMAT_PCM and bits in (8, 16, 24, 32):
        return _pcm_to_float(payload, bits // 8, channels), sr
    raise CorruptAudioError(f"unsupported WAV encoding (format tag {tag}, {bits} bits)")


def read_wav(data: bytes | bytearray | str | Path) -> tuple[np.ndarray, int]:
    """Read a WAV file.

    Args:
        data: file contents, or a path.

    Returns:
        ``(x, sr)``: float32 ``[n_samples, channels]`` in [-1, 1], sample rate in Hz.

    Raises:
        CorruptAudioError: not a WAV file, or truncated/unsupported.
        EmptyAudioError: a valid file with no samples.
    """
    if isinstance(data, (str, Path)):
        data = Path(data).read_bytes()
    data = bytes(data)
    if not data:
        raise EmptyAudioError("the file is empty (0 bytes)")
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            channels, width, sr = w.getnchannels(), w.getsampwidth(), w.getframerate()
            raw = w.readframes(w.getnframes())
        x = _pcm_to_float(raw, width, channels)
    except wave.Error as e:
        if "unknown format" not in str(e):
            raise CorruptAudioError(f"not a readable WAV file ({e})") from None
        x, sr = _read_wav_chunks(data)
    except (EOFError, struct.error) as e:
        raise CorruptAudioError(f"truncated WAV file ({e or 'unexpected end of data'})") from None
    if x.shape[0] == 0:
        raise EmptyAudioError("the WAV file holds no samples")
    return x, sr


def _info_chunk(info: dict[str, str]) -> bytes:
    """RIFF ``LIST/INFO`` chunk from 4-letter keys (e.g. ``INAM``, ``IART``, ``ICMT``)."""
    body = b"INFO"
    for key, value in info.items():
        if len(key) != 4 or not key.isascii():
            raise ValueError(f"INFO keys are 4 ASCII characters, got {key!r}")
        text = str(value).encode("utf-8") + b"\0"
        body += key.encode("ascii") + struct.pack("<I", len(text)) + text + (b"\0" if len(text) & 1 else b"")
    return b"LIST" + struct.pack("<I", len(body)) + body


SAMPLE_FORMATS = {"pcm16": (_WAVE_FORMAT_PCM, 2), "pcm24": (_WAVE_FORMAT_PCM, 3), "float32": (_WAVE_FORMAT_FLOAT, 4)}


def _encode_samples(x: np.ndarray, sample_format: str) -> bytes:
    """float32 ``[n, channels]`` in [-1, 1] -> interleaved little-endian sample bytes."""
    if sample_format == "float32":
        return np.clip(x, -1.0, 1.0).astype("<f4").tobytes()
    if sample_format == "pcm16":
        return np.round(np.clip(x, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    if sample_format == "pcm24":
        v = np.round(np.clip(x, -1.0, 1.0).astype(np.float64) * 8388607.0).astype("<i4")
        return v.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    raise ValueError(f"unknown sample format {sample_format!r}; expected one of {', '.join(SAMPLE_FORMATS)}")


def write_wav(x: np.ndarray, sr: int, info: dict[str, str] | None = None, sample_format: str = "pcm16") -> bytes:
    """Encode float audio as a WAV file.

    Args:
        x: float ``[n]`` or ``[n, channels]``, clipped to [-1, 1].
        sr: sample rate in Hz.
        info: optional RIFF INFO tags (``{"INAM": title, "IART": artist, "ICMT": comment}``),
            appended as a ``LIST`` chunk after the audio data.
        sample_format: ``"pcm16"``, ``"pcm24"`` (both through :mod:`wave`) or ``"float32"``
            (IEEE float, format tag 3, with the ``fact`` chunk it requires; :mod:`wave` writes
            only PCM).

    Returns:
        the file's bytes.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    raw = _encode_samples(x, sample_format)
    tag, width = SAMPLE_FORMATS[sample_format]
    if tag == _WAVE_FORMAT_PCM:
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(x.shape[1])
            w.setsampwidth(width)
            w.setframerate(int(sr))
            w.writeframes(raw)
        out = buf.getvalue()
    else:
        ch = x.shape[1]
        fmt = struct.pack("<HHIIHHH", tag, ch, int(sr), int(sr) * ch * width, ch * width, 8 * width, 0)
        body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<II", 4, x.shape[0])
                + b"data" + struct.pack("<I", len(raw)) + raw + (b"\0" if len(raw) & 1 else b""))
        out = b"RIFF" + struct.pack("<I", len(body)) + body
    if info:
        chunk = _info_chunk(info)
        out = b"RIFF" + struct.pack("<I", len(out) - 8 + len(chunk)) + out[8:] + chunk
    return out


def read_info(data: bytes) -> dict[str, str]:
    """RIFF INFO tags of a WAV file (empty if none)."""
    tags: dict[str, str] = {}
    for cid, chunk in _riff_chunks(bytes(data)):
        if cid == b"LIST" and chunk[:4] == b"INFO":
            pos = 4
            while pos + 8 <= len(chunk):
                key, size = struct.unpack("<4sI", chunk[pos : pos + 8])
                tags[key.decode("ascii", "replace")] = chunk[pos + 8 : pos + 8 + size].rstrip(b"\0").decode("utf-8", "replace")
                pos += 8 + size + (size & 1)
    return tags


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read any audio file: WAV natively, other formats through ``soundfile`` (CPython).

    Returns ``(x [n, channels] float32, sr)``; raises :class:`AudioError` subclasses.
    """
    path = Path(path)
    data = path.read_bytes()
    if data[:4] == b"RIFF" or not data:
        return read_wav(data)
    try:
        import soundfile
    except ImportError:  # pragma: no cover - soundfile is in the cli extra
        raise CorruptAudioError(f"{path.name}: only WAV can be read without the 'soundfile' package") from None
    try:
        x, sr = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as e:  # noqa: BLE001 - soundfile raises its own LibsndfileError / RuntimeError
        raise CorruptAudioError(f"{path.name}: not a readable audio file ({e})") from None
    if x.shape[0] == 0:
        raise EmptyAudioError(f"{path.name}: no samples")
    return x, sr


def to_mono(x: np.ndarray) -> np.ndarray:
    """Mix ``[n, channels]`` (or pass ``[n]``) down to float32 ``[n]``."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        return x
    if x.ndim != 2:
        raise AudioError(f"audio must be [n] or [n, channels], got shape {x.shape}")
    return x.mean(axis=1, dtype=np.float32)


def level_db(x: np.ndarray) -> float:
    """Peak level in dBFS (``-inf`` for digital silence)."""
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def is_silent(x: np.ndarray, threshold_db: float = -60.0) -> bool:
    """True if the peak level of ``x`` is below ``threshold_db`` dBFS (or ``x`` is empty)."""
    return level_db(np.asarray(x)) < threshold_db


def onset(x: np.ndarray, threshold_db: float = -40.0, frame: int = 64) -> int:
    """First sample of the first ``frame``-sample block whose peak reaches ``threshold_db``
    relative to the signal's peak (0 for silence)."""
    x = np.abs(np.asarray(x, dtype=np.float32))
    peak = float(x.max()) if len(x) else 0.0
    if peak == 0.0:
        return 0
    n = len(x) // frame * frame
    blocks = x[:n].reshape(-1, frame).max(axis=1) if n else np.array([peak])
    hit = np.flatnonzero(blocks >= peak * 10 ** (threshold_db / 20))
    return int(hit[0]) * frame if len(hit) else 0


def fit_length(x: np.ndarray, n: int, fade: int = 64) -> np.ndarray:
    """Trim or zero-pad ``x [m]`` to ``n`` samples; a trimmed end gets a ``fade``-sample fade-out."""
    x = np.asarray(x, dtype=np.float32)
    if len(x) >= n:
        out = x[:n].copy()
        if len(x) > n and fade:
            f = min(fade, n)
            out[n - f :] *= np.linspace(1.0, 0.0, f, dtype=np.float32)
        return out
    return np.concatenate([x, np.zeros(n - len(x), dtype=np.float32)])


def normalize_peak(x: np.ndarray, peak: float = 0.99) -> np.ndarray:
    """Scale so the absolute peak equals ``peak`` (silence is returned unchanged)."""
    x = np.asarray(x, dtype=np.float32)
    m = float(np.max(np.abs(x))) if len(x) else 0.0
    return x if m == 0.0 else (x * np.float32(peak / m)).astype(np.float32)


def normalize_rms(x: np.ndarray, rms_db: float = -20.0) -> np.ndarray:
    """Scale to an RMS level of ``rms_db`` dBFS, then limit the peak to 1."""
    x = np.asarray(x, dtype=np.float32)
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0
    if rms == 0.0:
        return x
    y = x * np.float32(10 ** (rms_db / 20) / rms)
    m = float(np.max(np.abs(y)))
    return (y / m).astype(np.float32) if m > 1.0 else y.astype(np.float32)


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample ``x [n]`` from ``sr_in`` to ``sr_out`` Hz (polyphase; scipy imported lazily)."""
    if sr_in == sr_out:
        return np.asarray(x, dtype=np.float32)
    from scipy.signal import resample_poly  # lazy: not on the browser's critical path

    g = math.gcd(int(sr_in), int(sr_out))
    return resample_poly(np.asarray(x, dtype=np.float32), sr_out // g, sr_in // g).astype(np.float32)


def prepare(
    x: np.ndarray,
    sr: int,
    sample_rate: int,
    n_samples: int,
    silence_db: float = -60.0,
    align_onset: bool = True,
    trim_fade: int = 64,
) -> np.ndarray:
    """Turn decoded audio into the model's input signal.

    Mono mix-down, resampling to ``sample_rate`` if needed, start at the onset (first block
    within 40 dB of the peak), trim/pad to ``n_samples`` (a longer sound fades out over its
    last ``trim_fade`` samples), peak-normalise to 0.99.

    Args:
        x: float ``[n]`` or ``[n, channels]``.
        sr: its sample rate in Hz.
        sample_rate, n_samples: the model's rate and length (from the manifest).

    Returns:
        float32 ``[n_samples]``.

    Raises:
        EmptyAudioError: no samples.
        SilentAudioError: peak below ``silence_db`` dBFS.
    """
    x = to_mono(x)
    if len(x) == 0:
        raise EmptyAudioError("the sound has no samples")
    if not np.all(np.isfinite(x)):
        raise CorruptAudioError("the sound contains NaN or infinite samples")
    if is_silent(x, silence_db):
        raise SilentAudioError(f"the sound is silent (peak {level_db(x):.0f} dBFS, below {silence_db:.0f} dBFS)")
    if sr != sample_rate:
        x = resample(x, sr, sample_rate)
    if align_onset:
        x = x[onset(x) :]
    return normalize_peak(fit_length(x, n_samples, fade=trim_fade))


def envelope(x: np.ndarray, width: int) -> np.ndarray:
    """Min/max envelope for drawing a waveform ``width`` pixels wide.

    Returns float32 ``[width, 2]`` (column minimum, column maximum); a signal shorter than
    ``width`` is stretched (each sample covers several columns).
    """
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    if width < 1:
        raise ValueError("width must be >= 1")
    if len(x) == 0:
        return np.zeros((width, 2), dtype=np.float32)
    starts = np.linspace(0, len(x), width + 1).astype(np.intp)[:-1]
    if len(x) >= width:  # every column holds samples: one reduceat each (no Python loop)
        return np.stack([np.minimum.reduceat(x, starts), np.maximum.reduceat(x, starts)], axis=1)
    return np.stack([x[starts], x[starts]], axis=1)  # stretched: one sample per column
