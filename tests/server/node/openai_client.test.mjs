// `vkmind serve` driven by the official OpenAI Node client (npm `openai`):
// models, chat and completions whole and streamed, seeds, errors as the
// client's typed exceptions, the API key, and a clean SIGTERM.
// Run by ctest: VKMIND_BINARY and VKMIND_TEST_MODEL name the server and model.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import OpenAI from "openai";

const binary = process.env.VKMIND_BINARY;
const model = process.env.VKMIND_TEST_MODEL;
assert.ok(binary && model, "VKMIND_BINARY and VKMIND_TEST_MODEL must be set");

// Starts a server on a free port; resolves once it says it is ready.
function startServer(extra = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ["serve", "-m", model, "--port", "0", ...extra], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    const timer = setTimeout(() => reject(new Error("server not ready: " + log)), 60000);
    child.stderr.on("data", (d) => {
      log += d;
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (port && log.includes("vkmind serve: ready")) {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${port[1]}/v1`, log: () => log });
      }
    });
    child.on("exit", (code) => reject(new Error(`server exited ${code}: ${log}`)));
  });
}

function stopServer(server) {
  return new Promise((resolve) => {
    server.child.removeAllListeners("exit");
    server.child.on("exit", (code, signal) => resolve({ code, signal }));
    server.child.kill("SIGTERM");
  });
}

let server, client;
before(async () => {
  server = await startServer();
  client = new OpenAI({ baseURL: server.url, apiKey: "unused", maxRetries: 0 });
});
after(async () => {
  if (server) await stopServer(server);
});

test("models.list names the served model", async () => {
  const models = await client.models.list();
  assert.equal(models.data.length, 1);
  assert.equal(models.data[0].id, "model.gguf");
});

test("chat completion, whole and streamed, give the same greedy text", async () => {
  const request = { model: "model.gguf", messages: [{ role: "user", content: "Hello" }], max_tokens: 10, temperature: 0 };
  const whole = await client.chat.completions.create(request);
  assert.equal(whole.object, "chat.completion");
  assert.equal(whole.choices[0].message.role, "assistant");
  assert.equal(whole.choices[0].finish_reason, "length");
  assert.equal(whole.usage.completion_tokens, 10);
  assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + 10);

  const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
  let text = "", usage = null, finish = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.delta?.content ?? "";
      finish = c.finish_reason ?? finish;
    }
  }
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, "length");
  assert.equal(usage.completion_tokens, 10);
  assert.ok(usage.prompt_tokens_details.cached_tokens >= 0);
});

test("completions, whole and streamed, and seeds that repeat", async () => {
  const whole = await client.completions.create({ model: "model.gguf", prompt: "Once", max_tokens: 8, temperature: 0 });
  assert.equal(whole.object, "text_completion");
  const stream = await client.completions.create({ model: "model.gguf", prompt: "Once", max_tokens: 8, temperature: 0, stream: true });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
  assert.equal(text, whole.choices[0].text);

  const sampled = { model: "model.gguf", prompt: "Once", max_tokens: 12, temperature: 1, seed: 42 };
  const a = await client.completions.create(sampled);
  const b = await client.completions.create(sampled);
  assert.equal(a.choices[0].text, b.choices[0].text);
});

test("bad requests come back as the client's typed errors", async () => {
  await assert.rejects(
    client.chat.completions.create({ model: "model.gguf", messages: [{ role: "user", content: "Hi" }], max_tokens: -1 }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && /max_tokens/.test(e.message),
  );
  await assert.rejects(
    client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404,
  );
  await assert.rejects(
    client.chat.completions.create({ model: "model.gguf", messages: [] }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === "messages",
  );
});

test("an API key is required when set, and SIGTERM exits 0", async () => {
  const guarded = await startServer(["--api-key", "sekret"]);
  try {
    const wrong = new OpenAI({ baseURL: guarded.url, apiKey: "nope", maxRetries: 0 });
    await assert.rejects(wrong.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
    const right = new OpenAI({ baseURL: guarded.url, apiKey: "sekret", maxRetries: 0 });
    const reply = await right.completions.create({ model: "model.gguf", prompt: "Hi", max_tokens: 3 });
    assert.equal(reply.usage.completion_tokens, 3);
  } finally {
    const exit = await stopServer(guarded);
    assert.equal(exit.code, 0);
  }
});
