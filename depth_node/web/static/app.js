// depth_node web page: hand-written, no library, talks only to this server's /api.
"use strict";

const METRICS = ["abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "delta1", "delta2", "delta3", "mae", "mse", "n_pixels"];
const items = [];  // {file, gt, depthScale, fx, hfov}
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function showError(message) {
  const box = $("#errors");
  box.hidden = false;
  box.append(el("div", { text: message }));
}

function stem(name) { return name.replace(/\.[^.]*$/, ""); }

function bytesOf(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function downloadLink(label, b64, filename, type) {
  const url = URL.createObjectURL(new Blob([bytesOf(b64)], { type }));
  return el("a", { href: url, download: filename, text: label });
}

function colorbar(lo, hi, flip, unit = " m") {
  const fmt = (v) => (Math.abs(hi - lo) < 1 ? v.toFixed(2) : v.toFixed(1)) + unit;
  const img = el("img", { src: "/api/colorbar.png", alt: "colour bar" });
  if (flip) img.className = "flip";
  const ticks = el("div", { class: "ticks" });
  for (let i = 0; i <= 4; i++) ticks.append(el("span", { text: fmt(lo + (hi - lo) * i / 4) }));
  return el("div", { class: "colorbar" }, img, ticks);
}

// ---- model list and image queue ----

async function loadModels() {
  const box = $("#models");
  try {
    const resp = await fetch("/api/models");
    if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
    const models = await resp.json();
    box.querySelector(".muted").remove();
    models.forEach((m, i) => {
      const input = el("input", { type: "checkbox", value: m.name });
      input.checked = i === 0;
      const size = m.input_width ? `${m.input_width}x${m.input_height}` : "any size";
      box.append(el("label", { title: `${m.kind}, input ${size}` }, input, ` ${m.name} `,
        el("span", { class: "muted", text: `(${m.kind.replace(/_/g, " ")})` })));
    });
    updateRunButton();
  } catch (err) {
    showError(`could not list the models: ${err.message}`);
  }
}

function selectedModels() {
  return [...document.querySelectorAll("#models input:checked")].map((i) => i.value);
}

function updateRunButton() {
  $("#run").disabled = items.length === 0 || selectedModels().length === 0;
}

function addFiles(files) {
  for (const file of files) {
    if (/\.npy$/i.test(file.name) || /(depth|_gt)/i.test(file.name) && items.length) {
      // A depth file dropped with the images: give it to the image whose name it starts with.
      const owner = items.find((it) => file.name.startsWith(stem(it.file.name)) && !it.gt);
      if (owner) { owner.gt = file; continue; }
    }
    items.push({ file, gt: null, depthScale: "1000", fx: "", hfov: "" });
  }
  renderQueue();
}

function renderQueue() {
  const body = $("#queue tbody");
  body.replaceChildren();
  items.forEach((it, idx) => {
    const gtInput = el("input", { type: "file", accept: ".png,.npy", class: "gt-input" });
    gtInput.addEventListener("change", () => { it.gt = gtInput.files[0] || null; renderQueue(); });
    const gtCell = el("td", {}, gtInput, el("span", { class: "muted", text: it.gt ? ` ${it.gt.name}` : "" }));
    // 16-bit PNG ground truth: units per metre (1000 = millimetres; TUM RGB-D writes 5000).
    const scale = el("input", { type: "number", min: "1", step: "any", class: "depth-scale-input",
      value: it.depthScale, list: "depth-scales", title: "16-bit PNG units per metre: 1000 = mm, 5000 = TUM RGB-D" });
    scale.addEventListener("input", () => { it.depthScale = scale.value; });
    const fx = el("input", { type: "number", min: "1", step: "any", class: "fx-input", value: it.fx });
    fx.addEventListener("input", () => { it.fx = fx.value; });
    const hfov = el("input", { type: "number", min: "1", max: "179", step: "any", class: "hfov-input", value: it.hfov });
    hfov.addEventListener("input", () => { it.hfov = hfov.value; });
    const remove = el("button", { type: "button", text: "remove" });
    remove.addEventListener("click", () => { items.splice(idx, 1); renderQueue(); });
    const thumb = el("img", { src: URL.createObjectURL(it.file), alt: "" });
    body.append(el("tr", {}, el("td", {}, thumb, it.file.name), gtCell, el("td", {}, scale), el("td", {}, fx),
      el("td", {}, hfov), el("td", {}, remove)));
  });
  $("#queue").hidden = items.length === 0;
  updateRunButton();
}

// ---- running: one request at a time, with progress ----

function post(form, onUpload) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/predict");
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onUpload(e.loaded / e.total); };
    xhr.onload = () => {
      const body = xhr.response;
      if (xhr.status === 200 && body) resolve({ ok: true, body });
      else resolve({ ok: false, message: `HTTP ${xhr.status}: ${(body && body.detail) || xhr.statusText || "no answer"}` });
    };
    xhr.onerror = () => resolve({ ok: false, message: "the server did not answer (is depth-node serve still running?)" });
    xhr.send(form);
  });
}

function imageSection(it, models) {
  const table = el("table", { class: "metrics" });
  const head = el("tr", {}, el("th", { text: "metric" }), ...models.map((m) => el("th", { text: m })));
  table.append(el("thead", {}, head));
  const tbody = el("tbody");
  for (const key of [...METRICS, "median_scaled", "latency_ms"]) {
    tbody.append(el("tr", { "data-key": key }, el("td", { text: key }), ...models.map(() => el("td", { text: "" }))));
  }
  table.append(tbody);
  const input = el("div", { class: "panel" }, el("h4", { text: "input" }),
    el("img", { src: URL.createObjectURL(it.file), alt: it.file.name, class: "input-image" }));
  const gtPanel = el("div", { class: "panel gt-panel" }, el("h4", { text: "ground truth" }));
  gtPanel.hidden = true;
  const cards = el("div", { class: "cards" });
  const metricsBlock = el("div", {}, el("h4", { text: "metrics (relative models: after median scaling)" }), table);
  metricsBlock.hidden = !it.gt;
  const section = el("section", { class: "image-result" }, el("h2", { text: it.file.name }),
    el("div", { class: "row" }, input, gtPanel, metricsBlock), cards);
  $("#results").append(section);
  return { section, table, gtPanel, cards };
}

function fillMetrics(table, col, r) {
  for (const row of table.querySelectorAll("tbody tr")) {
    const key = row.dataset.key;
    let text = "";
    if (key === "latency_ms") text = r.latency_ms.toFixed(1);
    else if (key === "median_scaled") text = r.median_scaled ? `yes (x${r.scale.toPrecision(4)})` : "no";
    else if (r.metrics && key in r.metrics) text = key === "n_pixels" ? String(r.metrics[key]) : r.metrics[key].toFixed(4);
    row.children[col + 1].textContent = text;
  }
}

function renderCard(card, it, r, parts) {
  const name = `${stem(it.file.name)}_${r.model}`;
  card.querySelector(".latency").textContent = `${r.latency_ms.toFixed(1)} ms`;
  const body = card.querySelector(".body");
  body.replaceChildren();
  const maps = el("div", { class: "row" });
  maps.append(el("div", {}, el("h4", { text: r.median_scaled ? "depth (median-scaled to the ground truth)" : "depth" }),
    el("img", { class: "map depth-image", src: `data:image/png;base64,${r.depth_png}`, alt: "depth" }),
    colorbar(r.depth_range_m[0], r.depth_range_m[1], false,
      r.kind === "metric_depth" || r.median_scaled ? " m" : " (relative)")));
  if (r.error_png) {
    maps.append(el("div", {}, el("h4", { text: "|error| against the ground truth" }),
      el("img", { class: "map error-image", src: `data:image/png;base64,${r.error_png}`, alt: "error map" }),
      colorbar(r.error_range_m[0], r.error_range_m[1], true)));
  }
  if (r.gt_png && parts.gtPanel.hidden) {
    parts.gtPanel.hidden = false;
    parts.gtPanel.append(el("img", { src: `data:image/png;base64,${r.gt_png}`, alt: "ground truth", class: "gt-image" }),
      colorbar(r.depth_range_m[0], r.depth_range_m[1], false));
  }
  const canvas = el("canvas", { class: "view", width: "320", height: "240", title: "drag to rotate, wheel to zoom, double-click to reset" });
  maps.append(el("div", {}, el("h4", { text: "3-D points (drag to rotate, wheel to zoom)" }), canvas));
  body.append(maps);
  new PointView(canvas, r);
  body.append(el("div", { class: "downloads" },
    downloadLink(".npy (m)", r.depth_npy, `${name}_depth.npy`, "application/octet-stream"),
    downloadLink("16-bit PNG (mm)", r.depth_mm_png, `${name}_depth_mm.png`, "image/png"),
    downloadLink("PLY", r.ply, `${name}.ply`, "application/octet-stream")));
}

async function runAll() {
  const models = selectedModels();
  const jobs = [];
  $("#errors").replaceChildren();
  $("#errors").hidden = true;
  for (const it of items) {
    const parts = imageSection(it, models);
    models.forEach((m, col) => {
      const card = $("#card-template").content.firstElementChild.cloneNode(true);
      card.querySelector(".model-name").textContent = m;
      parts.cards.append(card);
      jobs.push({ it, model: m, col, card, parts });
    });
  }
  $("#run").disabled = true;
  $("#progress").hidden = false;
  const bar = $("#bar");
  const status = $("#status");
  for (let j = 0; j < jobs.length; j++) {
    const { it, model, col, card, parts } = jobs[j];
    const form = new FormData();
    form.append("image", it.file);
    if (it.gt) form.append("gt", it.gt);
    if (it.gt && it.depthScale) form.append("depth_scale", it.depthScale);
    form.append("model", model);
    if (it.fx) form.append("fx", it.fx);
    if (it.hfov) form.append("hfov_deg", it.hfov);
    const t0 = performance.now();
    let phase = "uploading";
    const tick = () => {
      status.textContent = `${j + 1} / ${jobs.length}: ${model} on ${it.file.name}, ${phase} (${((performance.now() - t0) / 1000).toFixed(1)} s)`;
    };
    const timer = setInterval(tick, 200);
    tick();
    card.querySelector(".working").textContent = "running...";
    const res = await post(form, (f) => {
      bar.value = (j + 0.5 * f) / jobs.length;
      if (f >= 1) phase = "running the model";
    });
    clearInterval(timer);
    bar.value = (j + 1) / jobs.length;
    if (res.ok) {
      try {
        renderCard(card, it, res.body, parts);
        fillMetrics(parts.table, col, res.body);
      } catch (err) {
        res.ok = false;
        res.message = `could not show the result: ${err.message}`;
      }
    }
    if (!res.ok) {
      const body = card.querySelector(".body");
      body.replaceChildren(el("div", { class: "error", text: res.message }));
      showError(`${it.file.name} / ${model}: ${res.message}`);
    }
  }
  status.textContent = `done: ${jobs.length} run(s)`;
  updateRunButton();
}

// ---- 3-D point view: 2-D canvas, perspective projection, z-buffer ----

class PointView {
  constructor(canvas, r) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.xyz = new Float32Array(bytesOf(r.points).buffer);
    this.rgb = bytesOf(r.points_rgb);
    const n = this.xyz.length / 3;
    const c = [0, 0, 0];
    for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) c[k] += this.xyz[3 * i + k] / Math.max(n, 1);
    this.center = c;
    this.step = r.points_step / r.camera.fx;  // angle between neighbouring points, radians
    this.reset();
    let drag = null;
    canvas.addEventListener("mousedown", (e) => { drag = [e.clientX, e.clientY]; });
    window.addEventListener("mouseup", () => { drag = null; });
    canvas.addEventListener("mousemove", (e) => {
      if (!drag) return;
      this.yaw += (e.clientX - drag[0]) * 0.01;
      this.pitch = Math.max(-1.5, Math.min(1.5, this.pitch - (e.clientY - drag[1]) * 0.01));
      drag = [e.clientX, e.clientY];
      this.draw();
    });
    canvas.addEventListener("wheel", (e) => { e.preventDefault(); this.zoom *= Math.exp(e.deltaY * 0.001); this.draw(); });
    canvas.addEventListener("dblclick", () => { this.reset(); this.draw(); });
    this.draw();
  }

  reset() { this.yaw = 0; this.pitch = 0; this.zoom = 1; }

  draw() {
    const { width: w, height: h } = this.canvas;
    const img = this.ctx.createImageData(w, h);
    const zbuf = new Float32Array(w * h).fill(Infinity);
    const cy = Math.cos(this.yaw), sy = Math.sin(this.yaw), cp = Math.cos(this.pitch), sp = Math.sin(this.pitch);
    const [ox, oy, oz] = this.center;
    const dist = Math.max(oz, 0.1) * this.zoom;  // the eye starts where the camera was
    const f = 0.8 * w;
    const xyz = this.xyz, rgb = this.rgb, px = img.data;
    for (let i = 0, n = xyz.length / 3; i < n; i++) {
      const x0 = xyz[3 * i] - ox, y0 = xyz[3 * i + 1] - oy, z0 = xyz[3 * i + 2] - oz;
      const x1 = cy * x0 + sy * z0, z1 = -sy * x0 + cy * z0;  // yaw about the optical y axis
      const y2 = cp * y0 - sp * z1, z2 = sp * y0 + cp * z1 + dist;  // pitch about x
      if (z2 <= 0.01) continue;
      const u = Math.round(f * x1 / z2 + w / 2), v = Math.round(f * y2 / z2 + h / 2);
      // Splat as wide as the gap to the neighbouring points, so that a surface reads as a surface.
      const size = Math.min(6, Math.max(1, Math.ceil(f * this.step * xyz[3 * i + 2] / z2)));
      for (let dv = 0; dv < size; dv++) for (let du = 0; du < size; du++) {
        const uu = u + du, vv = v + dv;
        if (uu < 0 || vv < 0 || uu >= w || vv >= h) continue;
        const k = vv * w + uu;
        if (z2 >= zbuf[k]) continue;
        zbuf[k] = z2;
        px[4 * k] = rgb[3 * i]; px[4 * k + 1] = rgb[3 * i + 1]; px[4 * k + 2] = rgb[3 * i + 2]; px[4 * k + 3] = 255;
      }
    }
    this.ctx.putImageData(img, 0, 0);
  }
}

// ---- wiring ----

const drop = $("#drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); addFiles(e.dataTransfer.files); });
$("#files").addEventListener("change", (e) => { addFiles(e.target.files); e.target.value = ""; });
$("#models").addEventListener("change", updateRunButton);
$("#run").addEventListener("click", runAll);
loadModels();
