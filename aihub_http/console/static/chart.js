// A bar chart of one figure per day, drawn as SVG: small enough to write by hand, so the console
// needs no charting library. Each bar has a <title> (hover) and the chart a text summary
// (screen readers), and the colours come from the stylesheet (light and dark).
import { svg, h } from "./ui.js";

const W = 360;
const H = 190;
const PAD = { top: 12, right: 6, bottom: 24, left: 52 };

/** `rows`: [{date, value}]; `format` turns a value into text. */
export function barChart(title, rows, format, id) {
  const max = Math.max(0, ...rows.map((r) => r.value));
  const top = max > 0 ? niceCeiling(max) : 1;
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const step = rows.length ? innerW / rows.length : innerW;
  const barW = Math.max(1, Math.min(40, step * 0.7));
  const y = (v) => PAD.top + innerH - (v / top) * innerH;
  const ticks = [0, top / 2, top];
  const labelEvery = Math.max(1, Math.ceil(rows.length / 6));
  const picture = svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": title },
    ticks.map((v) => [
      svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: "grid" }),
      svg("text", { x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, format(v)),
    ]),
    rows.map((r, i) => {
      const x = PAD.left + i * step + (step - barW) / 2;
      return svg(
        "rect",
        { x, y: y(r.value), width: barW, height: Math.max(0, PAD.top + innerH - y(r.value)), class: "bar", "data-date": r.date, "data-value": r.value },
        svg("title", {}, `${r.date}: ${format(r.value)}`),
      );
    }),
    rows.map((r, i) =>
      i % labelEvery === 0
        ? svg("text", { x: PAD.left + i * step + step / 2, y: H - 8, "text-anchor": "middle", class: "tick" }, r.date.slice(5))
        : null,
    ),
  );
  const total = rows.reduce((sum, r) => sum + r.value, 0);
  return h("figure", { class: "card chart-card", id }, h("figcaption", {}, h("strong", {}, title), h("span", { class: "muted" }, ` ${format(total)}`)), picture);
}

/** A semicircle gauge of used / limit (limit 0: no limit). */
export function gauge(label, used, limit, text) {
  const share = limit > 0 ? Math.min(1, used / limit) : 0;
  const r = 60;
  const arc = (fraction) => {
    const angle = Math.PI * (1 - fraction);
    return `M ${70 - r} 70 A ${r} ${r} 0 0 1 ${70 + r * Math.cos(angle)} ${70 - r * Math.sin(angle)}`;
  };
  const level = share >= 0.9 ? "high" : share >= 0.7 ? "mid" : "low";
  return h(
    "div",
    { class: "gauge", role: "meter", "aria-label": label, "aria-valuemin": 0, "aria-valuemax": limit || used, "aria-valuenow": used, "aria-valuetext": text },
    svg("svg", { viewBox: "0 0 140 80" }, svg("path", { d: arc(1), class: "track" }), share > 0 ? svg("path", { d: arc(share), class: `fill ${level}` }) : null),
    h("div", { class: "gauge-text" }, h("strong", {}, text), h("span", { class: "muted" }, label)),
  );
}

function niceCeiling(v) {
  const power = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= v) return m * power;
  return 10 * power;
}
