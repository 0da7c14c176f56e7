// The playground: one conversation with a model over either chat API. The developer API
// (POST /v1/developer/chat/stream) continues it through the session id the stream returns; the
// OpenAI-compatible one (POST /v1/chat/completions) is sent the whole message array each turn.
// Chat takes an API key: one created in this tab (its secret is kept in memory), a pasted one,
// or one made here for the purpose.
import { call, get, stream } from "../api.js";
import { t } from "../i18n.js";
import { keepSecret, secrets } from "../session.js";
import { h, errorBox, number, usd, copy } from "../ui.js";
import { snippets } from "./code.js";

// Kept while the tab lives, so leaving the page and coming back continues the conversation.
// The spec's default model is preselected when the service offers it.
const chat = { api: "developer", history: [], sessionId: "", turns: [], service: "", model: "x-ai/grok-beta", system: "", temperature: 0.7, maxTokens: 1000, key: "" };
let lastCall = { message: t("playground.sample") };

export async function render(view) {
  const transcript = h("ol", { id: "transcript", class: "transcript", "aria-live": "polite" });
  const keyPicker = h("select", { id: "pg-key" });
  const pasted = h("input", { id: "pg-key-paste", type: "password", autocomplete: "off", placeholder: "ai-hub-…", "aria-label": t("playground.pasteKey") });
  const api = h("select", { id: "pg-api" }, ["developer", "openai"].map((a) => h("option", { value: a, selected: a === chat.api }, t(`playground.api.${a}`))));
  const service = h("select", { id: "pg-service" });
  const model = h("select", { id: "pg-model" });
  const system = h("textarea", { id: "pg-system", rows: 3 }, chat.system);
  const temperature = h("input", { id: "pg-temperature", type: "range", min: 0, max: 1, step: 0.05, value: chat.temperature });
  const tempOut = h("output", { for: "pg-temperature" }, chat.temperature);
  const maxTokens = h("input", { id: "pg-max-tokens", type: "number", min: 1, value: chat.maxTokens });
  const images = h("input", { id: "pg-images", type: "file", accept: "image/*", multiple: true });
  const message = h("textarea", { id: "pg-message", rows: 3, placeholder: t("playground.placeholder") });
  const send = h("button", { type: "submit", class: "primary", id: "pg-send" }, t("playground.send"));
  const stop = h("button", { type: "button", id: "pg-stop", hidden: true }, t("playground.stop"));
  const status = h("div", { "aria-live": "assertive" });
  const sessionLabel = h("span", { class: "muted small", id: "pg-session" });
  const code = codeView();

  const fillKeys = () => {
    const kept = secrets();
    keyPicker.replaceChildren(...kept.map((k) => h("option", { value: k.secret }, `${k.name} (${k.secret.slice(0, 12)}…)`)), h("option", { value: "" }, t("playground.pasteKey")));
    if (chat.key && kept.some((k) => k.secret === chat.key)) keyPicker.value = chat.key;
    pasted.hidden = keyPicker.value !== "";
  };
  keyPicker.addEventListener("change", () => {
    chat.key = keyPicker.value;
    pasted.hidden = keyPicker.value !== "";
  });
  const makeKey = h("button", { type: "button", class: "ghost small", id: "pg-make-key" }, t("playground.makeKey"));
  makeKey.addEventListener("click", async () => {
    try {
      const key = await call("POST", "/v1/developer/api-keys", { body: { name: t("playground.keyName") } });
      keepSecret(key.id, key.name, key.key);
      chat.key = key.key;
      fillKeys();
    } catch (err) {
      status.replaceChildren(errorBox(err));
    }
  });

  const loadModels = async () => {
    const list = await get("/v1/developer/models", { service: service.value, category: "chat" });
    model.replaceChildren(...list.models.map((m) => h("option", { value: m.id }, `${m.name || m.id}`)));
    if (list.models.some((m) => m.id === chat.model)) model.value = chat.model;
    chat.model = model.value;
  };
  service.addEventListener("change", async () => {
    chat.service = service.value;
    await loadModels().catch((err) => status.replaceChildren(errorBox(err)));
  });
  model.addEventListener("change", () => (chat.model = model.value));
  system.addEventListener("input", () => (chat.system = system.value));
  temperature.addEventListener("input", () => {
    chat.temperature = Number(temperature.value);
    tempOut.textContent = temperature.value;
  });
  maxTokens.addEventListener("input", () => (chat.maxTokens = Number(maxTokens.value) || 0));
  message.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  const fresh = h("button", { type: "button", class: "ghost small", id: "pg-new" }, t("playground.newSession"));
  const restart = () => {
    chat.sessionId = "";
    chat.history = [];
    chat.turns = [];
    transcript.replaceChildren();
    sessionLabel.textContent = "";
  };
  fresh.addEventListener("click", restart);
  api.addEventListener("change", () => {
    chat.api = api.value; // each API keeps its conversation its own way: start a new one
    restart();
  });

  const form = h(
    "form",
    { class: "composer" },
    h("label", { for: "pg-message", class: "sr" }, t("playground.message")),
    message,
    h("div", { class: "row wrap between" }, h("span", { class: "muted small" }, t("playground.hint")), h("span", { class: "row" }, stop, send)),
  );
  let controller = null;
  stop.addEventListener("click", () => controller && controller.abort());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = message.value.trim();
    const key = keyPicker.value || pasted.value.trim();
    status.replaceChildren();
    if (!text) return;
    if (!key) {
      status.replaceChildren(h("p", { class: "error", role: "alert" }, t("playground.needKey")));
      return;
    }
    const attached = await readImages(images.files);
    const body = { message: text, model: model.value, service: service.value, temperature: chat.temperature, session_id: chat.sessionId || undefined };
    if (chat.maxTokens) body.max_tokens = chat.maxTokens;
    if (chat.system) body.context = { system_prompt: chat.system };
    if (attached.length) body.images = attached.map((a) => a.data);
    lastCall = { ...body, system_prompt: chat.system, max_tokens: body.max_tokens };
    code.update();
    const turn = addTurn(transcript, text, attached.length);
    message.value = "";
    images.value = "";
    send.disabled = true;
    stop.hidden = false;
    controller = new AbortController();
    const started = performance.now();
    let firstToken = null;
    const onContent = (content, modelName) => {
      if (firstToken === null) firstToken = performance.now() - started;
      turn.answer.textContent += content;
      if (modelName) turn.model.textContent = modelName;
    };
    const onUsage = (u, ms) => {
      turn.stats.textContent = t("playground.stats", {
        prompt: number(u.prompt_tokens),
        completion: number(u.completion_tokens),
        cost: usd(u.estimated_cost_usd),
        ms: number(ms),
        first: number(Math.round(firstToken || 0)),
      });
    };
    const onError = (error) => turn.item.append(h("p", { class: "error", role: "alert" }, (error && error.message) || "error"));
    try {
      if (chat.api === "openai") {
        const user = { role: "user", content: attached.length ? [{ type: "text", text }, ...attached.map((a) => ({ type: "image_url", image_url: { url: `data:${a.type};base64,${a.data}` } }))] : text };
        const messages = [...(chat.system ? [{ role: "system", content: chat.system }] : []), ...chat.history, user];
        const request = { model: model.value, messages, stream: true, stream_options: { include_usage: true }, temperature: chat.temperature };
        if (chat.maxTokens) request.max_tokens = chat.maxTokens;
        lastCall = { ...lastCall, openai: request };
        code.update();
        await stream("/v1/chat/completions", request, key, (e) => {
          if (e.error) onError(e.error);
          const delta = e.choices && e.choices[0] && e.choices[0].delta;
          if (delta && delta.content) onContent(delta.content, e.model);
          if (e.usage) onUsage(e.usage, Math.round(performance.now() - started));
        }, controller.signal);
        chat.history.push(user, { role: "assistant", content: turn.answer.textContent });
        sessionLabel.textContent = t("playground.history", { n: chat.history.length });
      } else {
        await stream("/v1/developer/chat/stream", body, key, (e) => {
          if (e.type === "content") onContent(e.content, e.model);
          else if (e.type === "session") {
            chat.sessionId = e.session_id;
            sessionLabel.textContent = t("playground.session", { id: e.session_id });
          } else if (e.type === "usage") onUsage(e.usage || {}, (e.metadata || {}).response_time_ms);
          else if (e.type === "error") onError(e.error);
        }, controller.signal);
      }
      chat.turns.push(turn);
    } catch (err) {
      if (err.name === "AbortError") turn.stats.textContent = t("playground.stopped");
      else turn.item.append(errorBox(err));
    } finally {
      send.disabled = false;
      stop.hidden = true;
      controller = null;
      message.focus();
    }
  });

  view.append(
    h("h1", {}, t("playground.title")),
    h(
      "div",
      { class: "playground" },
      h(
        "aside",
        { class: "card settings" },
        h("label", { for: "pg-key" }, t("playground.key")),
        keyPicker,
        pasted,
        makeKey,
        h("label", { for: "pg-api" }, t("playground.api")),
        api,
        h("label", { for: "pg-service" }, t("models.service")),
        service,
        h("label", { for: "pg-model" }, t("models.model")),
        model,
        h("label", { for: "pg-system" }, t("playground.system")),
        system,
        h("label", { for: "pg-temperature" }, t("playground.temperature"), " ", tempOut),
        temperature,
        h("label", { for: "pg-max-tokens" }, t("playground.maxTokens")),
        maxTokens,
        h("label", { for: "pg-images" }, t("playground.images")),
        images,
      ),
      h("section", { class: "conversation" }, h("div", { class: "row between" }, sessionLabel, fresh), transcript, status, form, code.element),
    ),
  );
  fillKeys();
  for (const turn of chat.turns) transcript.append(turn.item);
  if (chat.sessionId) sessionLabel.textContent = t("playground.session", { id: chat.sessionId });
  try {
    const services = await get("/v1/developer/services");
    service.replaceChildren(...services.services.map((s) => h("option", { value: s }, s)));
    service.value = chat.service || services.default;
    chat.service = service.value;
    await loadModels();
  } catch (err) {
    status.replaceChildren(errorBox(err));
  }
}

function addTurn(transcript, text, imageCount) {
  const answer = h("div", { class: "answer" });
  const modelName = h("span", { class: "muted small" });
  const stats = h("div", { class: "stats muted small" });
  const item = h(
    "li",
    { class: "turn" },
    h("div", { class: "you" }, h("strong", {}, t("playground.you")), " ", text, imageCount ? h("span", { class: "pill" }, t("playground.withImages", { n: imageCount })) : null),
    h("div", { class: "bot" }, h("strong", {}, t("playground.assistant")), " ", modelName, answer, stats),
  );
  transcript.append(item);
  return { item, answer, model: modelName, stats };
}

function codeView() {
  let tab = "curl";
  const pre = h("pre", { id: "code-snippet", tabindex: 0 });
  const tabs = ["curl", "python", "openai"].map((name) => {
    const button = h("button", { type: "button", role: "tab", class: "ghost small", "data-tab": name }, t(`playground.code.${name}`));
    button.addEventListener("click", () => {
      tab = name;
      update();
    });
    return button;
  });
  const update = () => {
    pre.textContent = snippets(lastCall, location.origin)[tab];
    tabs.forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === tab)));
  };
  const copyButton = h("button", { type: "button", class: "small", onclick: () => copy(pre.textContent) }, t("keys.copy"));
  update();
  const element = h("details", { id: "show-code", class: "card" }, h("summary", {}, t("playground.showCode")), h("div", { class: "row wrap", role: "tablist" }, tabs, copyButton), pre);
  return { element, update };
}

/** The picked images: raw base64 (the spec's form, without the data: prefix) and MIME type. */
function readImages(files) {
  return Promise.all(
    [...(files || [])].map(
      (file) =>
        new Promise((resolve, reject) => {
          const reader = new FileReader();
          reader.onload = () => resolve({ data: String(reader.result).replace(/^data:[^,]*,/, ""), type: file.type || "image/png" });
          reader.onerror = () => reject(reader.error);
          reader.readAsDataURL(file);
        }),
    ),
  );
}
