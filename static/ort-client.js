// The Python worker's end of static/ort-worker.js: the part of onnxruntime-web's API that
// py/ortweb.py uses (InferenceSession.create, session.run / release, inputNames,
// inputMetadata, Tensor), with every call answered by the onnxruntime-web worker over a
// MessagePort. Model bytes and tensors travel as typed arrays (the ones made for a call are
// transferred).

let port = null;
let nextId = 1;
const waiting = new Map(); // id -> {resolve, reject}
const files = new Map(); // url -> Uint8Array: files the onnxruntime-web worker sent unasked

// The port the page handed to this worker (its other end is the onnxruntime-web worker).
export function connect(messagePort) {
  port = messagePort;
  port.onmessage = ({ data }) => {
    if (data.op === "file") { files.set(data.url, data.data); return; }
    const w = waiting.get(data.id);
    if (!w) return;
    waiting.delete(data.id);
    if (data.ok) w.resolve(data);
    else w.reject(new Error(data.error));
  };
}

export function connected() {
  return port !== null;
}

function call(message, transfer = []) {
  if (!port) return Promise.reject(new Error("onnxruntime-web is not connected"));
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    port.postMessage({ ...message, id }, transfer);
  });
}

export class Tensor {
  constructor(type, data, dims) {
    this.type = type;
    this.data = data;
    this.dims = [...dims];
  }
}

class RemoteSession {
  constructor(reply) {
    this.id = reply.session;
    this.inputNames = reply.inputNames;
    this.outputNames = reply.outputNames;
    this.inputMetadata = reply.inputMetadata;
    this.outputMetadata = reply.outputMetadata;
    this.warmed = reply.warmed; // {inputs, outputs}: name -> dims of the preload's run on zeros
  }

  // feeds: {name: Tensor}; their data is transferred (made for this call)
  async run(feeds) {
    const plain = {};
    const transfer = [];
    for (const [name, t] of Object.entries(feeds)) {
      plain[name] = { type: t.type, data: t.data, dims: t.dims };
      transfer.push(t.data.buffer);
    }
    const reply = await call({ op: "run", session: this.id, feeds: plain }, transfer);
    return reply.outputs;
  }

  async release() {
    await call({ op: "release", session: this.id });
  }
}

// A copy of a file the onnxruntime-web worker downloaded ahead of time (the default model's
// manifest and parts), or undefined (None in Python).
export async function cached(url) {
  const sent = files.get(url);
  if (sent) { files.delete(url); return sent; }
  return (await call({ op: "cached", url })).data ?? undefined;
}

// onnxruntime-web's API for one execution provider ("wasm", "webgpu", "webgl").
export function runtime(kind) {
  return {
    Tensor,
    InferenceSession: {
      async create(model, options) {
        return new RemoteSession(await call({ op: "create", kind, model, options }));
      },
    },
  };
}
