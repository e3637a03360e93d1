// The API docs page: the OpenAPI schema of this server, rendered without any library.
"use strict";

(async () => {
  const out = document.getElementById("endpoints");
  let api;
  try {
    api = await ownnet.request("/openapi.json");
  } catch (err) {
    out.textContent = `Cannot read /openapi.json: ${err.message}`;
    return;
  }
  const schemas = (api.components && api.components.schemas) || {};
  document.getElementById("api-title").textContent = `${api.info.title} ${api.info.version} API`;
  document.getElementById("api-description").textContent = api.info.description || "";

  function typeOf(s, depth = 0) {
    if (!s) return "";
    if (s.$ref) return s.$ref.split("/").pop();
    if (s.anyOf) return s.anyOf.map((x) => typeOf(x, depth)).join(" | ");
    if (s.enum) return s.enum.map((x) => JSON.stringify(x)).join(" | ");
    if (s.type === "array") return `array of ${typeOf(s.items, depth) || "any"}`;
    if (s.format === "binary") return "file";
    return s.type || "object";
  }

  function schemaBlock(s) {
    const target = s && s.$ref ? schemas[s.$ref.split("/").pop()] : s;
    if (!target || !target.properties) return ownnet.el("p", { text: typeOf(s) });
    const table = ownnet.el("table");
    table.append(ownnet.el("tr", {}, ownnet.el("th", { text: "field" }), ownnet.el("th", { text: "type" }),
      ownnet.el("th", { text: "" })));
    const required = new Set(target.required || []);
    for (const [name, prop] of Object.entries(target.properties)) {
      const limits = ["minimum", "exclusiveMinimum", "maximum"].filter((k) => prop[k] !== undefined)
        .map((k) => `${k} ${prop[k]}`).join(", ");
      const note = [prop.description, limits, prop.default !== undefined ? `default ${JSON.stringify(prop.default)}` : ""]
        .filter(Boolean).join(" · ");
      table.append(ownnet.el("tr", {},
        ownnet.el("td", {}, ownnet.el("code", { text: name + (required.has(name) ? "" : "?") })),
        ownnet.el("td", { text: typeOf(prop) }), ownnet.el("td", { text: note })));
    }
    return table;
  }

  for (const [path, item] of Object.entries(api.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const section = ownnet.el("section", { class: "endpoint" });
      section.append(ownnet.el("h3", {}, ownnet.el("span", { class: `method ${method}`, text: method.toUpperCase() }),
        " ", ownnet.el("code", { text: path }), ` – ${op.summary || ""}`));
      if (op.description) section.append(ownnet.el("p", { class: "description", text: op.description }));
      for (const p of op.parameters || []) {
        section.append(ownnet.el("p", {}, "parameter ", ownnet.el("code", { text: p.name }),
          ` (${p.in}, ${typeOf(p.schema)}${p.required ? ", required" : ""})`));
      }
      if (op.requestBody) {
        section.append(ownnet.el("h4", { text: "request body" }));
        if (op.requestBody.description) section.append(ownnet.el("p", { text: op.requestBody.description }));
        for (const [type, content] of Object.entries(op.requestBody.content || {})) {
          section.append(ownnet.el("p", {}, ownnet.el("code", { text: type })), schemaBlock(content.schema));
        }
      }
      section.append(ownnet.el("h4", { text: "responses" }));
      const list = ownnet.el("ul");
      for (const [code, resp] of Object.entries(op.responses || {})) {
        const types = Object.keys(resp.content || {});
        const schema = types.length ? resp.content[types[0]].schema : null;
        list.append(ownnet.el("li", {}, ownnet.el("strong", { text: code }), ` ${resp.description || ""}`,
          schema ? ` (${types[0]}: ${typeOf(schema)})` : types.length ? ` (${types[0]})` : ""));
      }
      section.append(list);
      out.append(section);
    }
  }
  const names = Object.keys(schemas);
  if (names.length) {
    out.append(ownnet.el("h2", { text: "Schemas" }));
    for (const name of names) {
      if (name.startsWith("HTTPValidationError") || name === "ValidationError") continue;
      out.append(ownnet.el("h3", {}, ownnet.el("code", { text: name })), schemaBlock(schemas[name]));
    }
  }
})();
