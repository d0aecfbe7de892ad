"""Audio Intellimixer engine: one module per pipeline stage.

- :mod:`.audio` — WAV in/out, mono, trim/pad, normalisation, silence
- :mod:`.spectral` — STFT and the model's spectrogram representation
- :mod:`.phase` — phase reconstruction (fast Griffin-Lim) and synthesis
- :mod:`.latent` — the 2-D latent map and the click rule
- :mod:`.model` — model-bundle manifest and native ONNX inference
- :mod:`.pipeline` — the two steps around the model: audio -> model input, latent -> audio
- :mod:`.freesound` — Freesound APIv2 client
- :mod:`.session` — one app session's state (model, sources, dims, history)
- :mod:`.sources`, :mod:`.credits`, :mod:`.share`, :mod:`.views` — sources and batches,
  credits and licence flags, shareable links, what the page draws
- :mod:`.service` — the page's operations, as the worker exposes them
- :mod:`.protocol` (``protocol.json``) — the page<->worker protocol, defined once
- :mod:`.strings` (``strings.json``) — every limit and user-facing sentence, defined once
- :mod:`.rules` — input checks, error wording, file names
- :mod:`.backends` — the model backend interface, its native adapter, backend choice
- :mod:`.training` — training, export and evaluation of bundles (needs torch)
- :mod:`.cli` — the ``intellimixer`` command

numpy is the only hard dependency; scipy, onnxruntime and soundfile are imported lazily
where used, so the package imports under Pyodide with numpy alone.
"""

__version__ = "0.1.0"
