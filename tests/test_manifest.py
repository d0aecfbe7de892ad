"""Model manifest validation: every problem names its field and says what is wrong."""
import copy
import json

import numpy as np
import pytest

from intellimixer.model import ManifestError, NativeModel, check_bundle_files, check_io, load_manifest
from tiny_bundle import manifest_dict


def mutate(path, value):
    m = manifest_dict(12)
    *parents, last = path
    target = m
    for k in parents:
        target = target[k]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return m


CASES = [
    (("format",), "other", "format", "must be 'intellimixer-model'"),
    (("format_version",), 2, "format_version", "must be 1"),
    (("name",), KeyError, "name", "is missing"),
    (("latent_dim",), "12", "latent_dim", "must be an integer"),
    (("latent_dim",), 1, "latent_dim", "between 2 and"),
    (("latent_dim",), True, "latent_dim", "must be an integer"),
    (("sample_rate",), 100, "sample_rate", "between 1000 and 192000"),
    (("n_samples",), 16000, "n_samples", "must equal stft.n_frames * stft.hop_length = 16384"),
    (("stft",), KeyError, "stft", "is missing"),
    (("stft",), [], "stft", "must be an object"),
    (("stft", "n_fft"), 511, "stft.n_fft", "even number"),
    (("stft", "hop_length"), 0, "stft.hop_length", "must be positive"),
    (("stft", "hop_length"), 1024, "stft.hop_length", "must not exceed n_fft"),
    (("stft", "window"), "kaiser", "stft.window", "must be one of hann"),
    (("stft", "center"), "yes", "stft.center", "true or false"),
    (("stft", "n_bins"), 257, "stft.n_bins", "n_fft // 2 = 256"),
    (("stft", "n_frames"), KeyError, "stft.n_frames", "is missing"),
    (("representation", "type"), "mel", "representation.type", "must be one of log_magnitude"),
    (("representation", "db_min"), float("nan"), "representation.db_min", "finite number"),
    (("representation", "db_max"), -90.0, "representation.db_max", "greater than db_min"),
    (("encoder", "file"), "../evil.onnx", "encoder.file", "plain file name"),
    (("encoder", "input"), "", "encoder.input", "non-empty tensor name"),
    (("encoder", "input_shape"), ["batch", 1, 128, 128], "encoder.input_shape", "axis 2 must be 256"),
    (("encoder", "input_shape"), ["batch", 256, 128], "encoder.input_shape", "must have 4 axes"),
    (("encoder", "outputs"), {"mu": "mu"}, "encoder.outputs.logvar", "is missing"),
    (("decoder", "input_shape"), ["batch", 8], "decoder.input_shape", "axis 1 must be 12"),
    (("decoder", "output_shape"), ["batch", 1, 256, 64], "decoder.output_shape", "axis 3 must be 128"),
    (("decoder", "file"), "encoder.onnx", "decoder.file", "must differ from encoder.file"),
    (("decoder", "output"), KeyError, "decoder.output", "is missing"),
    (("external_data",), ["ok.bin", 3], "external_data[1]", "plain file name"),
    (("dims",), [{"index": 0}], "dims", "must have latent_dim = 12 entries"),
    (("phase", "algorithm"), "pghi", "phase.algorithm", "must be 'fgla'"),
    (("phase", "n_iter"), -1, "phase.n_iter", "between 0 and 1000"),
    (("phase", "momentum"), 2.5, "phase.momentum", "in [0, 2)"),
]


@pytest.mark.parametrize("path,value,field,problem", CASES, ids=[".".join(c[0]) + f"={c[1]!r}"[:30] for c in CASES])
def test_each_error_names_field_and_problem(path, value, field, problem):
    with pytest.raises(ManifestError) as e:
        load_manifest(mutate(path, value))
    assert e.value.field == field
    assert problem in str(e.value)
    assert f"'{field}'" in str(e.value)


def test_dims_must_cover_every_index_once():
    m = manifest_dict(3)
    m["dims"] = [{"index": 0}, {"index": 0}, {"index": 2}]
    with pytest.raises(ManifestError, match="every latent index exactly once"):
        load_manifest(m)
    m["dims"] = [{"index": 0}, {"index": 5}, {"index": 2}]
    with pytest.raises(ManifestError, match=r"'dims\[1\].index' must be in 0..2"):
        load_manifest(m)


def test_not_json_and_not_object():
    with pytest.raises(ManifestError, match="not valid JSON"):
        load_manifest(b"{nope")
    with pytest.raises(ManifestError, match="must hold a JSON object"):
        load_manifest(b"[1, 2]")
    with pytest.raises(ManifestError, match="cannot be read"):
        load_manifest("/nonexistent/manifest.json")


def test_valid_manifest_round_trips_and_derives_values():
    m = load_manifest(json.dumps(manifest_dict(12)))
    assert m.latent_dim == 12 and m.duration == pytest.approx(1.024) and m.input_shape == (256, 128)
    assert m.stft.length == m.n_samples
    assert [d.label for d in m.dims][:2] == ["dim 1", "dim 2"]
    again = load_manifest(m.to_dict())
    assert again == m
    d = copy.deepcopy(manifest_dict(4))
    del d["dims"], d["phase"]
    m4 = load_manifest(d)
    assert [x.index for x in m4.dims] == [0, 1, 2, 3] and m4.phase.n_iter == 32


def test_bundle_files_must_be_present():
    m = load_manifest(manifest_dict(12))
    check_bundle_files(m, ["encoder.onnx", "decoder.onnx", "manifest.json"])
    with pytest.raises(ManifestError, match="'decoder.file' names 'decoder.onnx'"):
        check_bundle_files(m, ["encoder.onnx"])


def test_graph_io_checked_against_manifest():
    m = load_manifest(manifest_dict(12))
    check_io(m, "decoder", {"z": [None, 12]}, {"spectrogram": [None, 1, 256, 128]})
    with pytest.raises(ManifestError, match="latent size"):
        check_io(m, "decoder", {"z": [None, 8]}, {"spectrogram": [None, 1, 256, 128]})
    with pytest.raises(ManifestError, match="names tensor 'spectrogram'"):
        check_io(m, "encoder", {"x": [None, 1, 256, 128]}, {"mu": [None, 12], "logvar": [None, 12]})


def test_native_model_checks_graph_against_manifest(tiny_bundle8, tmp_path):
    model = NativeModel(tiny_bundle8)
    mu, logvar = model.encode(np.zeros((3, 256, 128), np.float32))
    assert mu.shape == (3, 8) and logvar.shape == (3, 8)
    assert model.decode(np.zeros(8)).shape == (1, 256, 128)
    # a manifest that claims another latent size than the ONNX graphs have
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in ("encoder.onnx", "decoder.onnx"):
        (bad / f).write_bytes((tiny_bundle8 / f).read_bytes())
    (bad / "manifest.json").write_text(json.dumps(manifest_dict(12)))
    with pytest.raises(ManifestError, match="latent"):
        NativeModel(bad)
    (bad / "decoder.onnx").unlink()
    with pytest.raises(ManifestError, match="not among the bundle's files"):
        NativeModel(bad)


def test_manifests_are_strict_json_that_a_browser_can_parse():
    """Browsers' JSON.parse refuses NaN and Infinity (Python's json reads them): the default
    manifest has none, the writer turns them into null, and the reader refuses them."""
    from pathlib import Path

    from intellimixer.bundle import manifest_json

    text = (Path(__file__).resolve().parents[1] / "models" / "default" / "manifest.json").read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in models/default/manifest.json"))
    written = manifest_json({"a": float("nan"), "b": [1.0, float("inf")], "c": {"d": -float("inf")}})
    assert json.loads(written) == {"a": None, "b": [1.0, None], "c": {"d": None}}
    with pytest.raises(ManifestError, match="NaN is not a JSON value"):
        load_manifest(text.replace('"n_iter": 28', '"n_iter": NaN'))
