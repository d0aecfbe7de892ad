#!/usr/bin/env python3
"""Train the default Audio Intellimixer VAE and export it as an ONNX model bundle.

A thin command over :mod:`intellimixer.training` (``pip install -e '.[dev]'`` first)::

    python build_onnx.py                          # full run -> models/default (~10 min, 2 CPU cores)
    python build_onnx.py --quick --out /tmp/b     # tiny smoke-test model on a few files (< 2 min)
    python build_onnx.py --eval-only --out models/default   # re-measure an existing bundle

The "bring your own model" helpers are importable as ``from intellimixer.training import
export_bundle`` (see ``docs/model-training.md``).
"""
import sys

from intellimixer.training.cli import main

if __name__ == "__main__":
    sys.exit(main())
