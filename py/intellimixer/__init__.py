"""Audio Intellimixer engine: one module per pipeline stage.

- :mod:`.audio` — WAV in/out, mono, trim/pad, normalisation, silence
- :mod:`.spectral` — STFT and the model's spectrogram representation
- :mod:`.phase` — phase reconstruction (fast Griffin-Lim) and synthesis
- :mod:`.latent` — the 2-D latent map and the click rule
- :mod:`.model` — model-bundle manifest and native ONNX inference
- :mod:`.freesound` — Freesound APIv2 client
- :mod:`.app` — app glue shared by the browser worker and the CLI

numpy is the only hard dependency; scipy, onnxruntime and soundfile are imported lazily
where used, so the package imports under Pyodide with numpy alone.
"""

__version__ = "0.1.0"
