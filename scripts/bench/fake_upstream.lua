-- The fake OpenAI-compatible upstream: POST /v1/chat/completions, answered by nginx itself so it
-- is never the bottleneck. A body with "stream": true gets a paced SSE stream of $bench_chunks
-- content chunks $bench_chunk_ms ms apart (the first at once), then a finish chunk, a usage chunk
-- and [DONE]; any other body gets one fixed Chat Completions JSON answer.
local chunks = tonumber(ngx.var.bench_chunks)
local pause = tonumber(ngx.var.bench_chunk_ms) / 1000

ngx.req.read_body()
local body = ngx.req.get_body_data() or ""

if not string.find(body, '"stream"%s*:%s*true') then
  ngx.header["Content-Type"] = "application/json"
  ngx.print('{"id":"chatcmpl-bench","object":"chat.completion","created":1764000000,"model":"fake-model",'
    .. '"choices":[{"index":0,"message":{"role":"assistant","content":"This is a benchmark answer from '
    .. 'the fake upstream."},"finish_reason":"stop"}],'
    .. '"usage":{"prompt_tokens":12,"completion_tokens":10,"total_tokens":22}}')
  return
end

ngx.header["Content-Type"] = "text/event-stream"
ngx.header["Cache-Control"] = "no-cache"
local head = 'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1764000000,'
  .. '"model":"fake-model","choices":[{"index":0,"delta":{"content":"tok'
local tail = ' "},"finish_reason":null}]}\n\n'
for i = 1, chunks do
  ngx.print(head, i, tail)
  ngx.flush(false)
  if i < chunks and pause > 0 then
    ngx.sleep(pause)
  end
end
ngx.print('data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1764000000,'
  .. '"model":"fake-model","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
  'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1764000000,'
  .. '"model":"fake-model","choices":[],'
  .. '"usage":{"prompt_tokens":12,"completion_tokens":', chunks, ',"total_tokens":', 12 + chunks, '}}\n\n',
  'data: [DONE]\n\n')
