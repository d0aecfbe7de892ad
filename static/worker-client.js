// The page's side of the page<->worker protocol (py/intellimixer/protocol.json, the one
// definition both sides read). call(op, ...args) runs an operation the protocol lists, with
// as many arguments as it declares; the reply is checked as it is read: reading a field the
// operation does not declare throws, so a page that drifts from the protocol fails loudly
// (and the static check in tests/js/check_protocol.mjs catches it before it runs).
// An operation with an 'event' (generate) answers through that event alone: the call's
// promise settles when the event with its ticket arrives, typed arrays transferred.
// Every call is announced as a typed "call" event {op, t0, t1, reply} for timing.

const ERROR_FIELDS = ["ok", "error", "kind"];

function declared(fields) {
  return new Set([...ERROR_FIELDS, ...fields]);
}

function checked(what, obj, allowed) {
  return new Proxy(obj, {
    get(target, key, receiver) {
      if (typeof key === "string" && !allowed.has(key) && !(key in Object.prototype) && key !== "then" && key !== "toJSON") {
        throw new Error(`protocol: ${what} has no field '${key}'`);
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

export class WorkerClient extends EventTarget {
  constructor() {
    super();
    this.worker = null;
    this.protocol = null;
    this.tickets = 0;
    this.waiting = new Map(); // ticket -> resolve
  }

  // The protocol (protocol.json) and the PyScript worker whose exports the calls go to.
  attach(worker, protocol) {
    this.protocol = protocol;
    this.tag = protocol.tag;
    this.worker = worker;
    worker.addEventListener("message", (event) => this.onMessage(event));
  }

  async call(op, ...args) {
    if (!this.worker) throw new Error(`protocol: ${op} called before the worker started`);
    const spec = this.protocol.operations[op];
    if (!spec) throw new Error(`protocol: no operation '${op}'`);
    const names = Object.keys(spec.args);
    if (spec.event) names.pop(); // the ticket is the client's
    if (args.length !== names.length) throw new Error(`protocol: ${op} takes (${names.join(", ")}), got ${args.length} arguments`);
    const t0 = performance.now();
    const reply = spec.event ? await this.callForEvent(op, spec, args) : this.decode(op, spec, await this.worker.sync[op](...args));
    this.dispatchEvent(new CustomEvent("call", { detail: { op, t0, t1: performance.now(), reply } }));
    return reply;
  }

  callForEvent(op, spec, args) {
    const ticket = ++this.tickets;
    const arrived = new Promise((resolve) => this.waiting.set(ticket, resolve));
    const sent = this.worker.sync[op](...args, ticket);
    return Promise.race([arrived, sent.then(() => arrived, (err) => { this.waiting.delete(ticket); throw err; })]);
  }

  decode(op, spec, raw) {
    const fields = [...Object.keys(spec.reply || {}), ...Object.keys(spec.buffers || {})];
    const out = JSON.parse(typeof raw === "string" ? raw : raw.json);
    if (typeof raw !== "string") for (const name of Object.keys(spec.buffers || {})) out[name] = raw[name];
    return checked(`the reply of ${op}`, out, declared(fields));
  }

  onMessage(event) {
    const d = event.data;
    if (!d || typeof d !== "object" || !(this.tag in d)) return;
    const spec = this.protocol.events[d[this.tag]];
    if (!spec) return;
    const out = JSON.parse(d.json);
    for (const name of Object.keys(spec.buffers || {})) if (name in d) out[name] = d[name];
    const resolve = this.waiting.get(out.ticket);
    if (!resolve) return;
    this.waiting.delete(out.ticket);
    resolve(checked(`the ${d[this.tag]} event`, out, declared([...Object.keys(spec.fields), ...Object.keys(spec.buffers || {})])));
  }
}
