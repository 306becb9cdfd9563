#!/usr/bin/env node
// Load for `vkmind serve`: C concurrent streaming clients, each sending R
// completions of -n tokens (EOS ignored), over Node's own fetch. Prints
// requests/s, generated tokens/s, time to first token p50/p99 and
// inter-token latency p50/p99. Distinct prompts, so the prefix cache is no help.
//
//   node tools/serve_load.mjs --url http://127.0.0.1:8080 -c 8 -r 4 -n 64 [-p 32]
const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith("-") ? [...pairs, [a.replace(/^-+/, ""), all[i + 1]]] : pairs), []),
);
const url = (args.url ?? "http://127.0.0.1:8080") + "/v1/completions";
const clients = Number(args.c ?? 1), perClient = Number(args.r ?? 4), maxTokens = Number(args.n ?? 64);
const promptWords = Number(args.p ?? 32);

const ttft = [], itl = [];
let tokens = 0, failed = 0, serial = 0;

async function one() {
  const id = serial++;
  const prompt = Array.from({ length: promptWords }, (_, i) => `w${(id * 7919 + i * 104729) % 997}`).join(" ");
  const start = performance.now();
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ prompt, max_tokens: maxTokens, temperature: 0, ignore_eos: true, stream: true }),
  });
  if (!res.ok) return void failed++;
  const decoder = new TextDecoder();
  let buffer = "", last = null;
  for await (const bytes of res.body) {
    buffer += decoder.decode(bytes, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!event.startsWith("data: {")) continue;
      const chunk = JSON.parse(event.slice(6));
      if (!chunk.choices?.[0]?.text) continue;
      const now = performance.now();
      if (last === null) ttft.push(now - start);
      else itl.push(now - last);
      last = now;
      tokens++;
    }
  }
}

const pct = (v, p) => (v.length ? [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.round(p * (v.length - 1)))] : 0);
const t0 = performance.now();
await Promise.all(Array.from({ length: clients }, async () => { for (let i = 0; i < perClient; i++) await one(); }));
const s = (performance.now() - t0) / 1000;
const n = clients * perClient - failed;
console.log(`clients ${clients}: ${n} requests in ${s.toFixed(1)} s, ${(n / s).toFixed(2)} req/s, ` +
  `${(tokens / s).toFixed(1)} tokens/s; TTFT p50 ${pct(ttft, 0.5).toFixed(0)} ms p99 ${pct(ttft, 0.99).toFixed(0)} ms; ` +
  `ITL p50 ${pct(itl, 0.5).toFixed(1)} ms p99 ${pct(itl, 0.99).toFixed(1)} ms; failed ${failed}`);
