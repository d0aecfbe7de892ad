"""Import of TensorFlow.js Layers models (``model.json`` + ``.bin`` shards) as ONNX.

The original Audio Intellimixer's models, and the VAEs its users made for it, are Keras models
saved for TensorFlow.js. This module reads them (both ``modelTopology`` forms, Functional and
Sequential, float32 and quantised weights) and writes the same maths as an ONNX graph, so one
runtime (onnxruntime, natively and in the browser) runs every model. The ONNX protobuf
messages come from ONNX's own generated module (``onnx_ml_pb2``), passed in: ``onnx``'s
natively, and in the browser the copy the build ships beside Pyodide's ``protobuf``.

Layouts: Keras is channels-last (NHWC); the ONNX graph is NCHW throughout, which for one
channel is the app's ``[batch, 1, n_bins, n_frames]`` as it is. ``Flatten`` and ``Reshape``
go back to NHWC order around themselves, so a ``Dense`` after them sees Keras's order.

Supported layers: InputLayer, Conv2D, Conv2DTranspose (same/valid padding, strides,
activations), Dense, BatchNormalization (inference), ReLU, LeakyReLU, Activation (linear,
relu, sigmoid, tanh, elu, softplus), Flatten, Reshape, Dropout. Anything else is refused,
naming the layer and its class.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .rules import AppError
from .strings import msg

SUPPORTED = ("InputLayer", "Conv2D", "Conv2DTranspose", "Dense", "BatchNormalization", "ReLU", "LeakyReLU",
             "Activation", "Flatten", "Reshape", "Dropout")
ACTIVATIONS = {"linear": None, "relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "elu": "Elu", "softplus": "Softplus"}
DTYPES = {"float32": (np.float32, 4), "int32": (np.int32, 4), "uint8": (np.uint8, 1), "uint16": (np.uint16, 2),
          "float16": (np.float16, 2)}
OPSET = 13
ROLE_WORDS = {"encoder": "tfjs_encoder", "decoder": "tfjs_decoder"}  # the sentences naming each half


class TfjsError(AppError):
    """A TF.js model that cannot be imported; the message names the file and the problem."""


@dataclass
class Layer:
    name: str
    cls: str
    config: dict[str, Any]
    inbound: list[str]  # the layers whose outputs it takes
    weights: dict[str, np.ndarray] = field(default_factory=dict)  # "kernel", "bias", "gamma", ...


@dataclass
class KerasModel:
    """One TF.js Layers model, read: its layers in the file's order, inputs, outputs."""

    where: str  # the model.json's name, for messages
    layers: dict[str, Layer]
    inputs: list[str]
    outputs: list[str]
    input_shape: tuple[int, ...]  # without the batch axis

    @property
    def role(self) -> str:
        """"encoder" (a spectrogram in, two latent vectors out) or "decoder" (a latent vector
        in, a spectrogram out), by topology; "" for neither."""
        if len(self.inputs) != 1:
            return ""
        if len(self.input_shape) == 3 and len(self.outputs) == 2:
            return "encoder"
        if len(self.input_shape) == 1 and len(self.outputs) == 1:
            return "decoder"
        return ""


def is_layers_model(data: Any) -> bool:
    """Whether parsed JSON is a TF.js model (``format`` layers-model or graph-model, or a
    ``modelTopology`` with a ``weightsManifest``)."""
    return isinstance(data, dict) and (data.get("format") in ("layers-model", "graph-model")
                                       or ("modelTopology" in data and "weightsManifest" in data))


def _fail(key: str, **kw: Any) -> TfjsError:
    return TfjsError(msg(key, **kw))


# --- reading -------------------------------------------------------------------------------


def read_weights(manifest: list[dict], shards: dict[str, bytes], where: str) -> dict[str, np.ndarray]:
    """The weights of a ``weightsManifest``: each group's shards concatenated in the order of
    its ``paths`` (looked up in ``shards``: path -> bytes), sliced in the order of its
    ``weights``, dequantised (uint8/uint16: ``q * scale + min``; float16). Returns weight name
    -> float32 array."""
    out: dict[str, np.ndarray] = {}
    for group in manifest:
        parts = []
        for path in group.get("paths", []):
            if path not in shards:
                raise _fail("tfjs_missing_shard", model=where, shard=path)
            parts.append(bytes(shards[path]))
        buf = b"".join(parts)
        offset = 0
        for spec in group.get("weights", []):
            name, shape = str(spec["name"]), [int(d) for d in spec["shape"]]
            q = spec.get("quantization") or {}
            dtype = q.get("dtype") or spec.get("dtype", "float32")
            if dtype not in DTYPES:
                raise _fail("tfjs_bad_dtype", model=where, weight=name, dtype=dtype)
            np_dtype, width = DTYPES[dtype]
            count = math.prod(shape)
            if offset + count * width > len(buf):
                raise _fail("tfjs_short_shard", model=where, weight=name, shards=", ".join(group.get("paths", [])),
                            need=offset + count * width, have=len(buf))
            a = np.frombuffer(buf, dtype=np_dtype, count=count, offset=offset).astype(np.float32)
            offset += count * width
            if dtype in ("uint8", "uint16"):
                a = a * np.float32(q["scale"]) + np.float32(q["min"])
            out[name] = a.reshape(shape)
        if offset != len(buf):
            raise _fail("tfjs_size_mismatch", model=where, shards=", ".join(group.get("paths", [])), need=offset, have=len(buf))
    return out


def _inbound(nodes: Any, name: str, where: str) -> list[str]:
    if not nodes:
        return []
    if len(nodes) > 1:  # a layer applied twice (shared): not a plain VAE
        raise _fail("tfjs_unsupported", model=where, layer=name, cls="shared layer")
    node = nodes[0]
    if isinstance(node, dict):  # Keras 3 form
        raise _fail("tfjs_unsupported", model=where, layer=name, cls="Keras 3 node format")
    return [str(entry[0]) for entry in node]


def read_model(data: dict[str, Any], shards: dict[str, bytes], where: str) -> KerasModel:
    """One parsed ``model.json`` and the shard bytes it names -> :class:`KerasModel`."""
    if data.get("format") == "graph-model":
        raise _fail("tfjs_graph_model", model=where)
    topo = data.get("modelTopology") or {}
    if "model_config" in topo:  # the Python converter's form
        topo = topo["model_config"]
    cls, config = topo.get("class_name"), topo.get("config")
    layers: dict[str, Layer] = {}
    if cls == "Sequential":
        items = config if isinstance(config, list) else (config or {}).get("layers", [])
        prev = None
        first_shape = None
        for k, item in enumerate(items):
            c = item.get("config", {})
            name = str(c.get("name") or f"layer_{k}")
            if item.get("class_name") == "InputLayer":
                first_shape = c.get("batch_input_shape") or c.get("batch_shape")
                prev = name
                layers[name] = Layer(name, "InputLayer", c, [])
                continue
            if prev is None:
                first_shape = c.get("batch_input_shape") or c.get("batch_shape")
                layers["input"] = Layer("input", "InputLayer", {"batch_input_shape": first_shape}, [])
                prev = "input"
            layers[name] = Layer(name, str(item.get("class_name")), c, [prev])
            prev = name
        inputs, outputs = [next(iter(layers))] if layers else [], [prev] if prev else []
    elif cls in ("Model", "Functional"):
        for item in config.get("layers", []):
            name = str(item.get("name") or item.get("config", {}).get("name"))
            layers[name] = Layer(name, str(item.get("class_name")), item.get("config", {}),
                                 _inbound(item.get("inbound_nodes"), name, where))
        inputs = [str(e[0]) for e in config.get("input_layers", [])]
        outputs = [str(e[0]) for e in config.get("output_layers", [])]
    else:
        raise _fail("tfjs_no_topology", model=where, cls=cls)
    for layer in layers.values():
        if layer.cls not in SUPPORTED:
            raise _fail("tfjs_unsupported", model=where, layer=layer.name, cls=layer.cls)
    weights = read_weights(data.get("weightsManifest") or [], shards, where)
    for full, value in weights.items():
        parts = full.split("/")
        owner = next((p for p in reversed(parts[:-1]) if p in layers), None)
        if owner is None:
            raise _fail("tfjs_stray_weight", model=where, weight=full)
        layers[owner].weights[parts[-1].split(":")[0]] = value
    if len(inputs) != 1:
        raise _fail("tfjs_inputs", model=where, count=len(inputs))
    shape = layers[inputs[0]].config.get("batch_input_shape") or layers[inputs[0]].config.get("batch_shape") or []
    if not shape or any(d is None or int(d) <= 0 for d in shape[1:]):
        raise _fail("tfjs_input_shape", model=where, shape=shape)
    return KerasModel(where, layers, inputs, outputs, tuple(int(d) for d in shape[1:]))


# --- the ONNX graph --------------------------------------------------------------------------


class _Graph:
    """ONNX nodes and initialisers under construction (names made unique here)."""

    def __init__(self) -> None:
        self.nodes: list[tuple[str, list[str], list[str], dict[str, Any], str]] = []
        self.inits: dict[str, np.ndarray] = {}
        self._n = 0

    def fresh(self, base: str) -> str:
        self._n += 1
        return f"{base}__{self._n}"

    def const(self, base: str, value: np.ndarray) -> str:
        name = self.fresh(base)
        self.inits[name] = np.asarray(value)
        return name

    def op(self, op_type: str, inputs: list[str], base: str, out: str | None = None, **attrs: Any) -> str:
        out = out or self.fresh(base)
        self.nodes.append((op_type, inputs, [out], attrs, self.fresh(f"{base}_{op_type}")))
        return out


def _pair(v: Any) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, (int, float)) else (int(v[0]), int(v[1]))


def _activation(g: _Graph, x: str, name: str, act: Any, where: str) -> str:
    act = "linear" if act in (None, "") else str(act)
    if act not in ACTIVATIONS:
        raise _fail("tfjs_unsupported", model=where, layer=name, cls=f"activation {act!r}")
    op = ACTIVATIONS[act]
    if op is None:
        return x
    return g.op(op, [x], name, **({"alpha": 1.0} if op == "Elu" else {}))


def _weight(layer: Layer, key: str, shape: tuple[int, ...] | None, where: str) -> np.ndarray:
    if key not in layer.weights:
        raise _fail("tfjs_missing_weight", model=where, layer=layer.name, weight=key)
    w = layer.weights[key]
    if shape is not None and tuple(w.shape) != tuple(shape):
        raise _fail("tfjs_weight_shape", model=where, layer=layer.name, weight=key, shape=list(w.shape), want=list(shape))
    return w


def _conv(g: _Graph, layer: Layer, x: str, shape: tuple, where: str, transpose: bool) -> tuple[str, tuple]:
    c = layer.config
    if len(shape) != 3:
        raise _fail("tfjs_rank", model=where, layer=layer.name, cls=layer.cls, rank=len(shape) + 1)
    if c.get("data_format", "channels_last") != "channels_last" or _pair(c.get("dilation_rate", 1)) != (1, 1) \
            or int(c.get("groups", 1)) != 1:
        raise _fail("tfjs_unsupported", model=where, layer=layer.name, cls=f"{layer.cls} (dilation, groups or channels_first)")
    (kh, kw), (sh, sw) = _pair(c["kernel_size"]), _pair(c.get("strides", 1))
    h, w, cin = shape
    filters = int(c["filters"])
    padding = str(c.get("padding", "valid"))
    if padding not in ("same", "valid"):
        raise _fail("tfjs_unsupported", model=where, layer=layer.name, cls=f"{layer.cls} padding {padding!r}")
    kernel = _weight(layer, "kernel", (kh, kw, filters, cin) if transpose else (kh, kw, cin, filters), where)
    inputs = [x, g.const(f"{layer.name}_W", np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))]
    if c.get("use_bias", True):
        inputs.append(g.const(f"{layer.name}_b", _weight(layer, "bias", (filters,), where)))
    pads, outs, extra = [], [], []
    for n, k, s in ((h, kh, sh), (w, kw, sw)):
        if not transpose:
            if padding == "same":
                o = -(-n // s)
                total = max((o - 1) * s + k - n, 0)
            else:
                o, total = (n - k) // s + 1, 0
            pads.append((total // 2, total - total // 2))
            extra.append(0)
        else:  # Keras's output sizes; ONNX's crops (pads) and output_padding to match them
            if padding == "same":
                o, total = n * s, max(k - s, 0)
            else:
                o, total = n * s + max(k - s, 0), 0
            pb, pe = total // 2, total - total // 2
            extra.append(o - (s * (n - 1) + k - pb - pe))
            pads.append((pb, pe))
        outs.append(o)
    attrs: dict[str, Any] = {"kernel_shape": [kh, kw], "strides": [sh, sw], "pads": [pads[0][0], pads[1][0], pads[0][1], pads[1][1]]}
    if transpose:
        attrs["output_padding"] = extra
    y = g.op("ConvTranspose" if transpose else "Conv", inputs, layer.name, **attrs)
    return _activation(g, y, layer.name, c.get("activation"), where), (outs[0], outs[1], filters)


def _layer(g: _Graph, layer: Layer, x: str, shape: tuple, where: str) -> tuple[str, tuple]:
    c, cls, name = layer.config, layer.cls, layer.name
    if cls in ("InputLayer", "Dropout"):
        return x, shape
    if cls in ("Conv2D", "Conv2DTranspose"):
        return _conv(g, layer, x, shape, where, cls == "Conv2DTranspose")
    if cls == "Dense":
        if len(shape) != 1:
            raise _fail("tfjs_rank", model=where, layer=name, cls=cls, rank=len(shape) + 1)
        units = int(c["units"])
        kernel = _weight(layer, "kernel", (shape[0], units), where)
        y = g.op("MatMul", [x, g.const(f"{name}_W", kernel)], name)
        if c.get("use_bias", True):
            y = g.op("Add", [y, g.const(f"{name}_b", _weight(layer, "bias", (units,), where))], name)
        return _activation(g, y, name, c.get("activation"), where), (units,)
    if cls == "BatchNormalization":
        axis = c.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        if axis not in (-1, len(shape)):
            raise _fail("tfjs_unsupported", model=where, layer=name, cls=f"BatchNormalization over axis {axis}")
        n = shape[-1]
        gamma = _weight(layer, "gamma", (n,), where) if c.get("scale", True) else np.ones(n, np.float32)
        beta = _weight(layer, "beta", (n,), where) if c.get("center", True) else np.zeros(n, np.float32)
        mean, var = _weight(layer, "moving_mean", (n,), where), _weight(layer, "moving_variance", (n,), where)
        ins = [x] + [g.const(f"{name}_{k}", v) for k, v in (("scale", gamma), ("B", beta), ("mean", mean), ("var", var))]
        return g.op("BatchNormalization", ins, name, epsilon=float(c.get("epsilon", 1e-3))), shape
    if cls == "Activation":
        return _activation(g, x, name, c.get("activation"), where), shape
    if cls == "ReLU":
        top, slope, threshold = c.get("max_value"), float(c.get("negative_slope") or 0.0), float(c.get("threshold") or 0.0)
        if threshold != 0.0 or (slope and top is not None):
            raise _fail("tfjs_unsupported", model=where, layer=name, cls="ReLU with a threshold")
        if slope:
            return g.op("LeakyRelu", [x], name, alpha=slope), shape
        if top is not None:
            lo, hi = g.const(f"{name}_lo", np.float32(0.0)), g.const(f"{name}_hi", np.float32(top))
            return g.op("Clip", [x, lo, hi], name), shape
        return g.op("Relu", [x], name), shape
    if cls == "LeakyReLU":
        alpha = c.get("alpha", c.get("negative_slope", 0.3))
        return g.op("LeakyRelu", [x], name, alpha=float(alpha)), shape
    if cls == "Flatten":
        if len(shape) == 3:  # Keras flattens channels-last
            x = g.op("Transpose", [x], name, perm=[0, 2, 3, 1])
        return g.op("Flatten", [x], name, axis=1), (math.prod(shape),)
    if cls == "Reshape":
        target = [int(d) for d in c["target_shape"]]
        if target.count(-1) == 1:
            target[target.index(-1)] = math.prod(shape) // -math.prod(target)
        if math.prod(target) != math.prod(shape) or len(target) not in (1, 3):
            raise _fail("tfjs_reshape", model=where, layer=name, shape=list(shape), target=list(c["target_shape"]))
        if len(shape) == 3:
            x = g.op("Transpose", [x], name, perm=[0, 2, 3, 1])
        y = g.op("Reshape", [x, g.const(f"{name}_shape", np.array([-1, *target], np.int64))], name)
        if len(target) == 3:
            y = g.op("Transpose", [y], name, perm=[0, 3, 1, 2])
        return y, tuple(target)
    raise _fail("tfjs_unsupported", model=where, layer=name, cls=cls)


def _order(km: KerasModel) -> list[Layer]:
    """The layers in an order where each comes after those it takes (file order, checked)."""
    done: set[str] = set()
    out: list[Layer] = []
    pending = list(km.layers.values())
    while pending:
        ready = [lay for lay in pending if all(i in done for i in lay.inbound)]
        if not ready:
            raise _fail("tfjs_unsupported", model=km.where, layer=pending[0].name, cls="a cycle or a missing input")
        for lay in ready:
            if len(lay.inbound) > 1:
                raise _fail("tfjs_unsupported", model=km.where, layer=lay.name, cls=f"{lay.cls} with {len(lay.inbound)} inputs")
            out.append(lay)
            done.add(lay.name)
        pending = [lay for lay in pending if lay.name not in done]
    return out


def find_outputs(km: KerasModel) -> tuple[str, str]:
    """The encoder's (mu, log-variance) output layers, by name, in either order."""
    def is_logvar(n: str) -> bool:
        n = n.lower()
        return "log" in n and ("var" in n or "sigma" in n)

    def is_mu(n: str) -> bool:
        n = n.lower()
        return not is_logvar(n) and ("mu" in n or "mean" in n)

    mu = [o for o in km.outputs if is_mu(o)]
    lv = [o for o in km.outputs if is_logvar(o)]
    if len(mu) != 1 or len(lv) != 1:
        raise _fail("tfjs_outputs", model=km.where, names=", ".join(km.outputs))
    return mu[0], lv[0]


def to_graph(km: KerasModel) -> dict[str, Any]:
    """The ONNX graph of an encoder or decoder in the app's conventions: the encoder takes
    ``spectrogram [batch, 1, H, W]`` and gives ``mu``, ``logvar [batch, D]``; the decoder takes
    ``z [batch, D]`` and gives ``spectrogram [batch, 1, H, W]``. Returns ``{"nodes", "inits",
    "inputs", "outputs"}`` (each input/output ``(name, shape)``)."""
    role = km.role
    if not role:
        raise _fail("tfjs_role", model=km.where, inputs=len(km.inputs), outputs=len(km.outputs), shape=list(km.input_shape))
    g = _Graph()
    if role == "encoder":
        if km.input_shape[2] != 1:
            raise _fail("tfjs_channels", model=km.where, shape=list(km.input_shape))
        in_name, in_shape = "spectrogram", ["batch", 1, km.input_shape[0], km.input_shape[1]]
        renames = dict(zip(find_outputs(km), ("mu", "logvar")))
    else:
        in_name, in_shape = "z", ["batch", km.input_shape[0]]
        renames = {km.outputs[0]: "spectrogram"}
    tensors = {km.inputs[0]: (in_name, km.input_shape)}
    for layer in _order(km):
        if layer.name == km.inputs[0]:
            continue
        x, shape = tensors[layer.inbound[0]]
        tensors[layer.name] = _layer(g, layer, x, shape, km.where)
    outputs = []
    for layer_name, out_name in renames.items():
        x, shape = tensors[layer_name]
        if role == "decoder":
            if len(shape) != 3 or shape[2] != 1:
                raise _fail("tfjs_channels", model=km.where, shape=list(shape))
            out_shape = ["batch", 1, shape[0], shape[1]]
        else:
            if len(shape) != 1:
                raise _fail("tfjs_rank", model=km.where, layer=layer_name, cls="output", rank=len(shape) + 1)
            out_shape = ["batch", shape[0]]
        g.op("Identity", [x], layer_name, out=out_name)
        outputs.append((out_name, out_shape))
    return {"nodes": g.nodes, "inits": g.inits, "inputs": [(in_name, in_shape)], "outputs": outputs}


def to_onnx(graph: dict[str, Any], pb: Any, name: str) -> bytes:
    """The graph (:func:`to_graph`) as ONNX model bytes, built with ONNX's generated protobuf
    module ``pb`` (``onnx.onnx_ml_pb2``, or the browser's copy of it)."""
    m = pb.ModelProto(ir_version=8, producer_name="intellimixer.tfjs", producer_version="1")
    m.opset_import.add(domain="", version=OPSET)
    gr = m.graph
    gr.name = name

    def value_info(target, vname, shape):
        vi = target.add(name=vname)
        tt = vi.type.tensor_type
        tt.elem_type = pb.TensorProto.FLOAT
        for d in shape:
            dim = tt.shape.dim.add()
            if isinstance(d, str):
                dim.dim_param = d
            else:
                dim.dim_value = int(d)

    for vname, shape in graph["inputs"]:
        value_info(gr.input, vname, shape)
    for vname, shape in graph["outputs"]:
        value_info(gr.output, vname, shape)
    for iname, value in graph["inits"].items():
        t = gr.initializer.add(name=iname, dims=list(value.shape))
        if value.dtype == np.int64:
            t.data_type = pb.TensorProto.INT64
            t.raw_data = np.ascontiguousarray(value, dtype="<i8").tobytes()
        else:
            t.data_type = pb.TensorProto.FLOAT
            t.raw_data = np.ascontiguousarray(value, dtype="<f4").tobytes()
    for op_type, inputs, outputs, attrs, nname in graph["nodes"]:
        node = gr.node.add(op_type=op_type, name=nname)
        node.input.extend(inputs)
        node.output.extend(outputs)
        for key, value in attrs.items():
            a = node.attribute.add(name=key)
            if isinstance(value, float):
                a.type, a.f = pb.AttributeProto.FLOAT, value
            elif isinstance(value, int):
                a.type, a.i = pb.AttributeProto.INT, value
            else:
                a.type = pb.AttributeProto.INTS
                a.ints.extend(int(v) for v in value)
    return m.SerializeToString()


def parse_json(raw: bytes, where: str) -> Any:
    try:
        return json.loads(bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _fail("tfjs_bad_json", model=where, error=e) from None


# --- a bundle from dropped files ------------------------------------------------------------

# The original app's preprocessing, from its code (adrianBalda/Intellimixer): audio at 22,050 Hz,
# STFT frame 512, hop 248, 256 bins x 64 frames, magnitude in dB over -100...0 mapped to 0...1.
# Where the preset follows its intent rather than its lines: the original cut 0.742 s and framed
# it uncentred (1 + (16361 - 512) // 248 = 64 frames) and fed a cropped, interleaved FFT; here
# frames are centred on multiples of the hop (the app's one STFT), so 64 frames cover
# 64 x 248 samples = 0.720 s, and the input is the magnitude the comment in its code describes.
ORIGINAL_PRESET = {
    "name": "original-intellimixer",
    "sample_rate": 22050,
    "stft": {"n_fft": 512, "hop_length": 248, "window": "hann", "center": True},
    "representation": {"type": "log_magnitude", "db_min": -100.0, "db_max": 0.0},
    "phase": {"algorithm": "fgla", "n_iter": 32, "momentum": 0.99},
}


OVERRIDES = {"sample_rate", "stft", "representation", "phase"}  # what a manifest dropped beside the models may set


def _folder(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _shards_for(json_path: str, data: dict, files: dict[str, bytes]) -> dict[str, bytes]:
    """The shards a model.json names, each looked up beside it (a folder drop keeps two models'
    same-named shards apart), else by its bare name when exactly one file has it."""
    folder, out = _folder(json_path), {}
    for group in data.get("weightsManifest") or []:
        for p in group.get("paths", []):
            beside = f"{folder}/{p}" if folder else p
            if beside in files:
                out[p] = files[beside]
                continue
            same = [n for n in files if n.rsplit("/", 1)[-1] == p.rsplit("/", 1)[-1] and _folder(n) != folder]
            if len(same) == 1 and not folder:
                out[p] = files[same[0]]
            elif len(same) > 1:
                raise _fail("tfjs_ambiguous_shard", model=json_path, shard=p, count=len(same))
    return out


def _json_files(files: dict[str, bytes], strict: bool = True):
    """``(path, parsed)`` of the JSON files among ``files``, by path; ``strict``: a file that
    is not JSON raises :class:`TfjsError`, else it is passed over."""
    for path, raw in sorted(files.items()):
        if path.lower().endswith(".json"):
            try:
                yield path, parse_json(raw, path)
            except TfjsError:
                if strict:
                    raise


def layers_models(files: dict[str, bytes]) -> list[str]:
    """The paths of the TF.js Layers model.json files among uploaded ``files`` (none: the
    upload is taken for a bundle, whose own checks name what is wrong with it)."""
    return [path for path, data in _json_files(files, strict=False) if is_layers_model(data)]


def find_models(files: dict[str, bytes]) -> tuple[list[tuple[str, dict]], dict[str, Any] | None]:
    """The TF.js model.json files among ``files`` (path -> bytes; paths may hold folders), and
    an optional manifest JSON (another JSON object with any of :data:`OVERRIDES`) that
    overrides the preset."""
    models, override = [], None
    for path, data in _json_files(files):
        if is_layers_model(data):
            models.append((path, data))
        elif isinstance(data, dict) and override is None and OVERRIDES & set(data):
            override = data
    return models, override


def convert(files: dict[str, bytes], pb: Any) -> tuple[dict[str, bytes], str]:
    """TF.js encoder + decoder (``files``: path -> bytes, as dropped or read from a folder) ->
    a bundle (``manifest.json``, ``encoder.onnx``, ``decoder.onnx``) and a sentence saying
    what was assumed. The two models are told apart by topology, never by name; the
    representation is :data:`ORIGINAL_PRESET` with the spectrogram shape and latent size
    taken from the topology, overridden by a manifest JSON in the same drop."""
    from .bundle import manifest_dict, manifest_json
    from .model import load_manifest

    found, override = find_models(files)
    if not found:
        raise _fail("tfjs_none")
    read = [read_model(data, _shards_for(path, data, files), path) for path, data in found]
    roles: dict[str, KerasModel] = {}
    for km in read:
        role = km.role
        if not role:
            raise _fail("tfjs_role", model=km.where, inputs=len(km.inputs), outputs=len(km.outputs), shape=list(km.input_shape))
        if role in roles:
            raise _fail("tfjs_two_of", role=msg(ROLE_WORDS[role]), first=roles[role].where, second=km.where)
        roles[role] = km
    for role in ("encoder", "decoder"):
        if role not in roles:
            raise _fail("tfjs_missing_role", role=msg(ROLE_WORDS[role]), found=", ".join(km.where for km in read))
    enc, dec = to_graph(roles["encoder"]), to_graph(roles["decoder"])
    d_enc, d_dec = enc["outputs"][0][1][1], dec["inputs"][0][1][1]
    if d_enc != d_dec:
        raise _fail("tfjs_latent_mismatch", encoder=roles["encoder"].where, d_enc=d_enc, decoder=roles["decoder"].where, d_dec=d_dec)
    bins, frames = enc["inputs"][0][1][2:]
    if list(dec["outputs"][0][1][2:]) != [bins, frames]:
        raise _fail("tfjs_shape_mismatch", encoder=roles["encoder"].where, decoder=roles["decoder"].where,
                    enc=[bins, frames], dec=list(dec["outputs"][0][1][2:]))
    preset = json.loads(json.dumps(ORIGINAL_PRESET))
    # (another bin count than the original's 256: its frame and hop scaled alike)
    preset["stft"].update(n_fft=2 * bins, hop_length=max(1, round(248 * bins / 256)), n_bins=bins, n_frames=frames)
    o = override or {}
    for key in ("stft", "representation", "phase"):
        preset[key].update(o.get(key) or {})
    stft = preset["stft"]
    m = manifest_dict(
        name=str(o.get("name") or preset["name"]), latent_dim=d_enc, sample_rate=int(o.get("sample_rate") or preset["sample_rate"]),
        n_samples=int(stft["n_frames"]) * int(stft["hop_length"]), stft=stft, representation=preset["representation"],
        phase=preset["phase"], description=str(o.get("description") or msg("tfjs_description")),
        license=str(o.get("license", "")), credits=str(o.get("credits", "")))
    text = manifest_json(m)
    manifest = load_manifest(text.encode("utf-8"))
    bundle = {"manifest.json": text.encode("utf-8"), "encoder.onnx": to_onnx(enc, pb, "encoder"),
              "decoder.onnx": to_onnx(dec, pb, "decoder")}
    said = msg("tfjs_assumed_override" if override else "tfjs_assumed", sr=manifest.sample_rate, seconds=f"{manifest.duration:.3f}",
               n_fft=stft["n_fft"], hop=stft["hop_length"], bins=bins, frames=frames, dims=d_enc,
               db_min=preset["representation"].get("db_min"), db_max=preset["representation"].get("db_max"))
    return bundle, said
