// The official TypeScript SDK against nbclaude's loopback fake: the seed guide's examples and
// the cookbook patterns of issue #15. Run by tests/testing/test_sdk_typescript.py as
// `node ts_guide.mjs BASE_URL`; prints one JSON object of results on stdout.
import Anthropic from '@anthropic-ai/sdk';
import { betaTool } from '@anthropic-ai/sdk/helpers/beta/json-schema';

const client = new Anthropic({ baseURL: process.argv[2], apiKey: 'sk-ant-test-fake-ts', maxRetries: 0 });
const MODEL = 'claude-sonnet-5-5';
const out = {};
const text = (m) => m.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
const weather = {
  name: 'get_weather',
  description: 'Get the current weather in a given location',
  input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
};

async function status(fn) {
  try {
    await fn();
    return 200;
  } catch (err) {
    return err.status ?? String(err);
  }
}

// The guide: basic request, multi-turn, prefill (a model that still accepts it), vision.
const basic = await client.messages.create({
  model: MODEL,
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'Hello, Claude' }],
});
out.basic = { text: text(basic), stop_reason: basic.stop_reason, id: basic.id };
out.retired = await status(() =>
  client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }),
);
const multi = await client.messages.create({
  model: MODEL,
  max_tokens: 1024,
  messages: [
    { role: 'user', content: 'Hello, Claude' },
    { role: 'assistant', content: 'Hello!' },
    { role: 'user', content: 'Can you describe LLMs to me?' },
  ],
});
out.multi = text(multi);
const prefill = await client.messages.create({
  model: 'claude-haiku-4-5',
  max_tokens: 1,
  messages: [
    { role: 'user', content: 'What is latin for Ant? (A) Apoidea, (B) Rhopalocera, (C) Formicidae' },
    { role: 'assistant', content: 'The answer is (' },
  ],
});
out.prefill = { text: text(prefill), stop_reason: prefill.stop_reason };
// a 1x1 PNG
const png =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const vision = await client.messages.create({
  model: MODEL,
  max_tokens: 1024,
  messages: [
    {
      role: 'user',
      content: [
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
        { type: 'text', text: 'What is in the above image?' },
      ],
    },
  ],
});
out.vision = text(vision);
out.file_url = await status(() =>
  client.messages.create({
    model: MODEL,
    max_tokens: 10,
    messages: [
      { role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'file:///tmp/a.png' } }, { type: 'text', text: '?' }] },
    ],
  }),
);

// Streaming.
const stream = client.messages.stream({ model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: 'Hello' }] });
let streamed = '';
stream.on('text', (t) => {
  streamed += t;
});
const final = await stream.finalMessage();
out.stream = { streamed, final: text(final) };

// Cookbook: tools when needed, forced tool choice, the tool runner (threads), caching, citations.
const sky = await client.messages.create({
  model: MODEL,
  max_tokens: 1024,
  tools: [weather],
  messages: [{ role: 'user', content: 'What color is the sky?' }],
});
out.sky = { stop_reason: sky.stop_reason, types: sky.content.map((b) => b.type) };
out.forced_sonnet = await status(() =>
  client.messages.create({
    model: MODEL,
    max_tokens: 100,
    tools: [weather],
    tool_choice: { type: 'any' },
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
  }),
);
const forced = await client.messages.create({
  model: 'claude-haiku-4-5',
  max_tokens: 100,
  tools: [weather],
  tool_choice: { type: 'any' },
  messages: [{ role: 'user', content: 'Weather in Paris?' }],
});
out.forced_haiku = forced.content.map((b) => b.type);

const calls = [];
const runner = client.beta.messages.toolRunner({
  model: MODEL,
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
  tools: [
    betaTool({
      name: 'get_weather',
      description: 'Get the current weather in a given location',
      inputSchema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
      run: async (input) => {
        calls.push(input);
        return 'Sunny, 21 C';
      },
    }),
  ],
});
const replies = [];
for await (const message of runner) replies.push(message);
out.runner = { calls: calls.length, last: text(replies[replies.length - 1]), stop: replies[replies.length - 1].stop_reason };

const book = 'It is a truth universally acknowledged, that a single man ... '.repeat(200);
const cached = {
  model: MODEL,
  max_tokens: 100,
  system: [{ type: 'text', text: book, cache_control: { type: 'ephemeral' } }],
  messages: [{ role: 'user', content: 'Themes?' }],
};
const first = await client.messages.create(cached);
const second = await client.messages.create(cached);
out.cache = [first.usage, second.usage];

const cites = await client.messages.create({
  model: MODEL,
  max_tokens: 1024,
  messages: [
    {
      role: 'user',
      content: [
        {
          type: 'document',
          source: { type: 'text', media_type: 'text/plain', data: 'The grass is green. The sky is blue.' },
          title: 'My Document',
          citations: { enabled: true },
        },
        { type: 'text', text: 'What color is the grass?' },
      ],
    },
  ],
});
out.citations = cites.content.flatMap((b) => (b.type === 'text' && b.citations ? b.citations : []));

const { response } = await client.messages
  .create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })
  .withResponse();
out.ratelimit = response.headers.get('anthropic-ratelimit-requests-limit');

process.stdout.write(JSON.stringify(out));
