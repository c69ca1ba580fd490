// Elements from data, text as text nodes (never HTML): nothing a name or a note holds can run.
export const $ = (selector, root = document) => root.querySelector(selector);

function make(node, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) if (child != null && child !== false) node.append(child instanceof Node ? child : String(child));
  return node;
}

export const el = (tag, attributes = {}, ...children) => make(document.createElement(tag), attributes, children);
export const svg = (tag, attributes = {}, ...children) =>
  make(document.createElementNS("http://www.w3.org/2000/svg", tag), attributes, children);

// A label and its control: an input, or the `tag` given with its `options`.
export const labelled = (id, words, { tag = "input", options, ...attributes } = {}) =>
  [el("label", { for: id }, words), el(tag, { id, ...attributes }, options)];
