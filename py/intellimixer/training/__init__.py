"""Training, export and evaluation of model bundles (needs PyTorch: ``pip install -e '.[dev]'``).

``build_onnx.py`` at the repository root is a thin command over :mod:`.cli`. For "bring your
own model", any pair of PyTorch modules ``encoder(x [B,1,n_bins,n_frames]) -> (mu, logvar)``
and ``decoder(z [B,D]) -> [B,1,n_bins,n_frames]`` in [0, 1] exports into a bundle the app
accepts::

    from intellimixer.training import export_bundle, evaluate_bundle
    export_bundle(encoder, decoder, "my-bundle", latent_dim=8, name="mine")

- :mod:`.format` — the format the default model is trained for (rate, STFT, representation)
- :mod:`.corpus` — recorded sounds from Debian packages, the held-out split, augmentation
- :mod:`.vae` — the convolutional VAE and its training
- :mod:`.export` — :func:`export_bundle` (torch -> ONNX bundle, checked with onnxruntime)
- :mod:`.evaluate` — log-spectral distances on real sounds, latent-map plots
"""
from .evaluate import evaluate_bundle, log_spectral_distance
from .export import export_bundle
from .format import format_manifest, manifest_dict

__all__ = ["evaluate_bundle", "export_bundle", "format_manifest", "log_spectral_distance", "manifest_dict"]
