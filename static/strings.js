// Every limit and user-facing sentence of the app: py/intellimixer/strings.json, the file the
// Python engine reads too (intellimixer.strings), so each is written once for both sides.
// msg(key, vars) fills {name} placeholders exactly as the Python side does.

export const LIMITS = {};
export const BACKENDS = {};
const MESSAGES = {};

export async function loadStrings(url) {
  const r = await fetch(url, { cache: "no-cache" });
  if (!r.ok) throw new Error(`${url} is missing (HTTP ${r.status})`);
  const data = await r.json();
  Object.assign(LIMITS, data.limits);
  Object.assign(BACKENDS, data.backends);
  Object.assign(MESSAGES, data.messages);
}

export function msg(key, vars = {}) {
  const template = MESSAGES[key];
  if (template === undefined) throw new Error(`strings.json has no message '${key}'`);
  return template.replace(/\{(\w+)\}/g, (_, name) => {
    if (!(name in vars)) throw new Error(`message '${key}' needs {${name}}`);
    return String(vars[name]);
  });
}
