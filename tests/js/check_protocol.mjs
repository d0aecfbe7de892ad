// Static check of the page against the protocol (py/intellimixer/protocol.json): every
// worker call names an operation the protocol defines, with its number of arguments, and
// every field read from a reply (or from a value marked `/* @protocol NAME */`, NAME an
// operation, an event or a type of the protocol) is one the protocol declares; fields of
// declared types are followed one level down (r.map.points).
//
//   node tests/js/check_protocol.mjs [FILE.js ...]     (default: static/*.js)
//
// Prints one line per finding and exits 1 if there is any.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "acorn";
import { ancestor } from "acorn-walk";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const protocol = JSON.parse(readFileSync(join(root, "py", "intellimixer", "protocol.json"), "utf8"));
const ALWAYS = ["ok", "error", "kind"];

function typeFields(typeText) {
  const name = String(typeText).split(/[:[\s|]/)[0];
  return protocol.types[name] ? Object.keys(protocol.types[name]) : null;
}

// NAME -> {field: its declared type text}
function shapeOf(name) {
  const op = protocol.operations[name];
  if (op) return op.event ? shapeOf(op.event) : { ...(op.reply || {}), ...(op.buffers || {}) };
  const ev = protocol.events[name];
  if (ev) return { ...ev.fields, ...(ev.buffers || {}) };
  const t = protocol.types[name];
  return t ? { ...t } : null;
}

function check(file) {
  const text = readFileSync(file, "utf8");
  const comments = [];
  const ast = parse(text, { ecmaVersion: "latest", sourceType: "module", locations: true, onComment: comments });
  const findings = [];
  const where = (node) => `${file}:${node.loc.start.line}`;
  const bindings = []; // {name, shape, label, scope}

  const enclosing = (ancestors) => [...ancestors].reverse().find((n) => /Function/.test(n.type)) || ast;
  const bind = (id, shape, label, scope, node) => {
    if (id.type === "Identifier") bindings.push({ name: id.name, shape, label, scope });
    else if (id.type === "ObjectPattern") {
      for (const p of id.properties) {
        const key = p.key?.name ?? p.key?.value;
        if (key && !(key in shape) && !ALWAYS.includes(key)) findings.push(`${where(node)}: ${label} has no field '${key}'`);
      }
    }
  };

  // values marked /* @protocol NAME */ (a parameter or a declared variable)
  const marks = comments.filter((c) => /@protocol\s+\w+/.test(c.value)).map((c) => ({ end: c.end, name: c.value.match(/@protocol\s+(\w+)/)[1] }));
  const markFor = (node) => marks.find((m) => m.end <= node.start && /^\s*$/.test(text.slice(m.end, node.start)));

  ancestor(ast, {
    CallExpression(node, _, ancestors) {
      const callee = node.callee;
      if (callee.type !== "MemberExpression" || callee.property.name !== "call") return;
      const first = node.arguments[0];
      if (!first || first.type !== "Literal" || typeof first.value !== "string") return;
      const op = first.value, spec = protocol.operations[op];
      if (!spec) { findings.push(`${where(node)}: no operation '${op}' in the protocol`); return; }
      const want = Object.keys(spec.args).length - (spec.event ? 1 : 0);
      if (node.arguments.length - 1 !== want) findings.push(`${where(node)}: ${op} takes ${want} arguments, got ${node.arguments.length - 1}`);
      const shape = shapeOf(op), label = `the reply of ${op}`;
      const parents = [...ancestors].reverse();
      let k = 1;
      if (parents[k]?.type === "AwaitExpression") k++;
      const p = parents[k];
      if (p?.type === "VariableDeclarator" && p.init === parents[k - 1]) bind(p.id, shape, label, enclosing(ancestors), p);
      if (p?.type === "MemberExpression" && p.property.name === "then") {
        const cb = parents[k + 1]?.arguments?.[0];
        if (cb && /Function/.test(cb.type) && cb.params[0]) bind(cb.params[0], shape, label, cb, cb);
      }
    },
    VariablePattern(node, _, ancestors) {
      const m = markFor(node);
      if (!m) return;
      const shape = shapeOf(m.name);
      if (!shape) { findings.push(`${where(node)}: @protocol ${m.name} is not an operation, event or type`); return; }
      const parent = ancestors[ancestors.length - 2];
      const scope = /Function/.test(parent?.type) ? parent : enclosing(ancestors.slice(0, -1));
      bindings.push({ name: node.name, shape, label: m.name, scope });
    },
  });

  for (const b of bindings) {
    ancestor(b.scope, {
      MemberExpression(node, _, ancestors) {
        if (node.computed || node.object.type !== "Identifier" || node.object.name !== b.name) return;
        const field = node.property.name;
        if (!(field in b.shape) && !ALWAYS.includes(field)) { findings.push(`${where(node)}: ${b.label} has no field '${field}'`); return; }
        const inner = typeFields(b.shape[field] ?? "");
        const up = ancestors[ancestors.length - 2];
        if (inner && up?.type === "MemberExpression" && up.object === node && !up.computed) {
          const sub = up.property.name;
          if (!inner.includes(sub) && !["length", "map", "filter", "forEach", "at", "concat", "slice"].includes(sub)) {
            findings.push(`${where(up)}: ${b.label}.${field} has no field '${sub}'`);
          }
        }
      },
    });
  }
  return findings;
}

const files = process.argv.length > 2 ? process.argv.slice(2)
  : readdirSync(join(root, "static")).filter((f) => f.endsWith(".js")).map((f) => join(root, "static", f));
const findings = files.flatMap(check);
for (const f of findings) console.log(f);
console.log(`checked ${files.length} files against the protocol: ${findings.length} findings`);
process.exit(findings.length ? 1 : 0);
