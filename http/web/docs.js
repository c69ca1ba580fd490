// /docs: the API's own /openapi.json, rendered with the DOM. The document's text only ever becomes
// text nodes (never HTML), and nothing else is fetched.
const $ = (id) => document.getElementById(id);
let doc = {};
let deepest = 16; // how many $refs deep a schema is expanded (in the Schemas section: 1)
let budget = 0; // how many more $refs one schema may expand: a wide web of refs stays small
const opIds = new Map(); // operationId → [anchor, "METHOD /path"]
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const REASONS = {
  200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 304: "Not Modified", 400: "Bad Request",
  401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
  409: "Conflict", 413: "Content Too Large", 414: "URI Too Long", 422: "Unprocessable Content",
  429: "Too Many Requests", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
  503: "Service Unavailable", default: "Any other status",
};
const obj = (x) => (x && typeof x === "object" ? x : {});
const ents = (x) => Object.entries(obj(x));

function fill(e, kids) {
  for (const k of kids.flat(Infinity)) if (k != null && k !== false && k !== "") e.append(k instanceof Node ? k : String(k));
  return e;
}
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of ents(attrs)) e.setAttribute(k, v);
  return fill(e, kids);
}
const code = (t) => el("code", null, t);
const show = (v) => JSON.stringify(v);
const req = (yes) => (yes ? [el("span", { class: "req" }, "required"), " "] : null);

// Descriptions are CommonMark: paragraphs, "- " lists and `code` spans are shown, as text.
function text(md) {
  if (md == null || md === "") return null;
  const inline = (s) => s.split("`").map((part, i) => (i % 2 ? code(part) : part));
  return el("div", { class: "md" }, String(md).split(/\n\s*\n/).map((block) => {
    const lines = block.trim().split("\n");
    return lines.every((l) => /^\s*[-*] /.test(l))
      ? el("ul", null, lines.map((l) => el("li", null, inline(l.replace(/^\s*[-*] /, "")))))
      : el("p", null, inline(block.trim()));
  }));
}

const unescape = (p) => p.replace(/~1/g, "/").replace(/~0/g, "~");
// "#/components/schemas/Event" → what is there (undefined if nothing).
function pointer(ref) {
  if (typeof ref !== "string" || !ref.startsWith("#/")) return undefined;
  let v = doc;
  for (const p of ref.slice(2).split("/")) {
    let key = p;
    try { key = decodeURIComponent(p); } catch {}
    v = v?.[unescape(key)];
  }
  return v;
}
const refName = (ref) => unescape(String(ref).split("/").pop());
// Parameters, responses, headers, examples and bodies may be $refs to components.
function deref(o) {
  for (let i = 0; o && o.$ref && i < 20; i++) o = pointer(o.$ref);
  return obj(o);
}
const schemaId = (name) => "schema-" + name.replace(/[^\w.-]/g, "_");
const refLink = (ref) => (ref.startsWith("#/components/schemas/")
  ? el("a", { href: "#" + schemaId(refName(ref)) }, refName(ref)) : code(ref));

function kind(s) {
  s = obj(s);
  if (s.$ref) return refName(s.$ref);
  if ("const" in s) return "constant " + show(s.const);
  const one = (t) => (t === "array" ? "array of " + kind(s.items) : t);
  const t = Array.isArray(s.type) ? s.type.map(one).join(" or ") : s.type ? one(s.type)
    : s.oneOf ? "one of" : s.anyOf ? "any of" : s.allOf ? "all of" : s.properties ? "object" : s.enum ? "value" : "any";
  return s.format ? `${t} (${s.format})` : t;
}

const FACTS = {
  minimum: "min", maximum: "max", exclusiveMinimum: "more than", exclusiveMaximum: "less than",
  minLength: "min length", maxLength: "max length", minItems: "min items", maxItems: "max items",
  multipleOf: "multiple of", pattern: "pattern", default: "default", example: "example",
};
function facts(s) {
  const out = [];
  const list = (vs) => vs.map((v, i) => [i ? ", " : "", code(show(v))]);
  for (const [k, label] of ents(FACTS)) {
    if (s[k] !== undefined && typeof s[k] !== "boolean") out.push([label + " ", code(k === "pattern" ? s[k] : show(s[k]))]);
  }
  if (Array.isArray(s.enum)) out.push(["one of ", list(s.enum)]);
  if (Array.isArray(s.examples)) out.push(["examples ", list(s.examples)]);
  for (const k of ["nullable", "readOnly", "writeOnly", "deprecated", "uniqueItems"]) if (s[k] === true) out.push(k);
  if (s.additionalProperties === false) out.push("no other properties");
  return out.length ? el("span", { class: "facts" }, ": ", out.map((f, i) => [i ? "; " : "", f])) : null;
}

const isNull = (s) => s?.type === "null" && Object.keys(s).length === 1;

// A schema as nested lists: its type and constraints on one line, its descriptions, then its
// properties, items and alternatives. A $ref is expanded once per branch: where a schema recurs,
// it is named and linked, not shown again.
function schema(s, seen = [], label = [], outer = {}) {
  s = obj(s);
  if (!seen.length) budget = 200;
  const desc = [...(outer.desc || []), s.description];
  const alts = s.oneOf || s.anyOf;
  if (!s.type && !s.properties && alts?.length === 2 && alts.some(isNull)) {
    return schema(alts.find((a) => !isNull(a)), seen, label, { nullable: true, desc });
  }
  const orNull = outer.nullable ? ", or null" : "";
  if (s.$ref) {
    const target = pointer(s.$ref);
    label = [...label, refLink(s.$ref), " "];
    if (target && !seen.includes(s.$ref) && seen.length < deepest && budget-- > 0) {
      return schema(target, [...seen, s.$ref], label, { nullable: outer.nullable, desc });
    }
    const why = !target ? "(not in this document)" : seen.includes(s.$ref) ? "(recursive: shown above)" : kind(target);
    return el("div", { class: "schema" }, el("p", { class: "type" }, label, el("span", { class: "kind" }, why, orNull)), desc.map(text));
  }
  const required = Array.isArray(s.required) ? s.required : [];
  const sub = (role, x) => el("div", null, schema(x, seen, [el("span", { class: "role" }, role)]));
  return el("div", { class: "schema" },
    el("p", { class: "type" }, label, el("span", { class: "kind" }, kind(s), orNull), facts(s)),
    text(s.title), desc.map(text),
    s.properties ? el("ul", { class: "props" }, ents(s.properties).map(([name, p]) =>
      el("li", { "data-property": name }, schema(p, seen, [code(name), " ", req(required.includes(name))])))) : null,
    Object.keys(obj(s.items)).some((k) => k !== "type" && k !== "format") ? sub("Each item: ", s.items) : null,
    s.additionalProperties?.constructor === Object ? sub("Other properties: ", s.additionalProperties) : null,
    ents({ oneOf: "One of", anyOf: "Any of", allOf: "All of" }).map(([k, title]) => (!Array.isArray(s[k]) ? null : [
      s.type || s.properties ? el("p", { class: "role" }, title + ":") : null,
      el("ol", null, s[k].map((a) => el("li", null, schema(a, seen))))])));
}

function examples(m, json) {
  const list = m.example !== undefined ? [["Example", m.example]] : [];
  for (const [name, e0] of ents(m.examples)) {
    const e = deref(e0);
    list.push([`Example “${name}”${e.summary ? ": " + e.summary : ""}`, e.value, e.description, e.externalValue]);
  }
  return list.map(([title, value, description, external]) => !json && value !== null && typeof value !== "object"
    ? [el("p", null, el("span", { class: "role" }, title, ": "), code(String(value))), text(description)]
    : el("figure", null,
    el("figcaption", null, title), text(description),
    value !== undefined ? el("pre", null, code(typeof value === "string" && !json ? value : JSON.stringify(value, null, 2)))
      : external ? el("p", null, "At ", code(external)) : null));
}

// A response's schema is folded (the same error body recurs in most operations); a request's is not.
const content = (c, fold) => ents(c).map(([type, m]) => el("div", { "data-content-type": type },
  el("p", { class: "ctype" }, "Content type ", code(type)),
  !m.schema ? null : fold ? el("details", null, el("summary", null, "Schema: ", kind(m.schema)), schema(m.schema)) : schema(m.schema),
  examples(m, /json/i.test(type))));

// A parameter or a header.
const field = (name, p, where) => el("li", { "data-name": name }, fill(
  schema(p.schema || Object.values(obj(p.content))[0]?.schema, [], [code(name), " ",
    where ? el("span", { class: "in" }, "in " + where + " ") : null, req(p.required), p.deprecated ? "deprecated " : null],
  { desc: [p.description] }), [examples(p, false)]));

function link(name, l) {
  const target = opIds.get(l.operationId);
  return el("li", { "data-link": name }, code(name), " → ",
    target ? el("a", { href: "#" + target[0] }, l.operationId, " (", target[1], ")") : code(l.operationId ?? l.operationRef ?? "?"),
    text(l.description),
    l.parameters ? el("ul", null, ents(l.parameters).map(([k, v]) =>
      el("li", null, "parameter ", code(k), " = ", code(typeof v === "string" ? v : show(v))))) : null,
    l.requestBody !== undefined ? el("p", null, "request body = ", code(show(l.requestBody))) : null);
}

const response = (status, r) => el("section", { class: "response", "data-status": status },
  el("h5", null, el("span", { class: "status" }, status), " ", REASONS[status] || ""), text(r.description),
  r.headers ? [el("h6", null, "Headers"), el("ul", { class: "params" }, ents(r.headers).map(([n, h]) => field(n, deref(h))))] : null,
  content(r.content, true),
  r.links ? [el("h6", null, "Links"), el("ul", { class: "links" }, ents(r.links).map(([n, l]) => link(n, deref(l))))] : null);

function operation({ path, method, op, shared, id }) {
  const params = new Map();
  for (const p of [...shared, ...(op.parameters || [])].map(deref)) params.set(p.in + " " + p.name, p);
  const body = op.requestBody && deref(op.requestBody);
  const M = method.toUpperCase();
  return el("section", { class: "op", id, "data-operation": M + " " + path, "aria-labelledby": id + "-h" },
    el("h3", { id: id + "-h" }, el("span", { class: "method " + method }, M), " ", el("span", { class: "route" }, path)),
    op.summary ? el("p", { class: "summary" }, op.summary) : null,
    op.operationId ? el("p", { class: "meta" }, "operationId ", code(op.operationId)) : null,
    op.deprecated ? el("p", { class: "req" }, "Deprecated") : null,
    text(op.description),
    params.size ? [el("h4", null, "Parameters"), el("ul", { class: "params" }, [...params.values()].map((p) => field(p.name, p, p.in)))] : null,
    body ? el("div", { class: "body" }, el("h4", null, "Request body", body.required ? " (required)" : " (optional)"),
      text(body.description), content(body.content)) : null,
    el("h4", null, "Responses"),
    ents(op.responses).map(([status, r]) => response(status, deref(r))));
}

function render() {
  const info = obj(doc.info);
  document.title = `${info.title || "The API"} ${info.version || ""}: API documentation`;
  const used = new Set();
  const paths = ents(doc.paths).map(([path, item]) => {
    item = deref(item);
    const ops = METHODS.filter((m) => item[m]).map((method) => {
      let id = "op-" + (method + path).replace(/[^A-Za-z0-9]+/g, "-").replace(/-$/, "");
      for (let n = 2; used.has(id); n++) id = id.replace(/~\d+$/, "") + "~" + n;
      used.add(id);
      const op = obj(item[method]);
      if (op.operationId) opIds.set(op.operationId, [id, method.toUpperCase() + " " + path]);
      return { path, method, op, shared: item.parameters || [], id };
    });
    return [path, ops, item];
  });
  const schemas = ents(doc.components?.schemas);
  deepest = 16;
  const sections = paths.map(([path, ops, item], i) => el("section", { "aria-labelledby": "path-" + i },
    el("h2", { id: "path-" + i }, code(path)), text(item.summary), text(item.description), ops.map(operation)));
  deepest = 1;
  $("main").replaceChildren();
  fill($("main"), [
    el("h1", null, info.title || "The API"),
    el("p", { class: "meta" }, "Version ", code(info.version ?? "?"), doc.openapi ? ["; OpenAPI ", doc.openapi] : null),
    text(info.summary), text(info.description),
    el("nav", { "aria-labelledby": "toc-h", class: "toc" }, el("h2", { id: "toc-h" }, "Operations"),
      el("ul", null, paths.map(([path, ops]) => el("li", null, code(path), el("ul", null, ops.map((o) =>
        el("li", null, el("a", { href: "#" + o.id }, el("span", { class: "method " + o.method }, o.method.toUpperCase()),
          " ", path, o.op.summary ? [": ", o.op.summary] : null)))))),
        schemas.length ? el("li", null, el("a", { href: "#schemas" }, "Schemas")) : null)),
    sections,
    schemas.length ? el("section", { id: "schemas", "aria-labelledby": "schemas-h" }, el("h2", { id: "schemas-h" }, "Schemas"),
      schemas.map(([name, s]) => el("section", { class: "component", id: schemaId(name), "aria-labelledby": schemaId(name) + "-h" },
        el("h3", { id: schemaId(name) + "-h" }, name), schema(s, ["#/components/schemas/" + name])))) : null,
  ]);
  document.body.dataset.ready = "true";
  try { $(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView(); } catch {}
}

async function start() {
  try {
    const r = await fetch("/openapi.json", { headers: { accept: "application/json" } });
    if (!r.ok) throw new Error(`the server answered ${r.status} ${r.statusText}`.trim());
    doc = await r.json();
    if (!doc?.paths) throw new Error("it is not an OpenAPI document (no paths)");
    render();
  } catch (e) {
    $("error").textContent = `The API document (/openapi.json) could not be shown: ${e.message}.`;
    $("main").replaceChildren(el("p", null, "Nothing to show. ", el("a", { href: "/docs" }, "Try again"), "."));
    document.body.dataset.ready = "error";
  }
}
start();
