# The interop scenarios written the way a Bunny user writes them.
# Usage: ruby scenarios.rb <scenario> <amqp-url> <name-prefix>
# Prints `RESULT {json}` and exits 0; any exception exits 1.
require 'bunny'
require 'json'
require 'timeout'

SCENARIO, URL, PREFIX = ARGV

def with_connection
  connection = Bunny.new(URL, logger: Logger.new(nil))
  connection.start
  yield connection
ensure
  connection&.close if connection&.open?
end

# basic.get may race the publish on a just-declared queue; poll briefly.
def get_one(queue)
  100.times do
    delivery_info, properties, body = queue.pop
    return [delivery_info, properties, body] if delivery_info
    sleep 0.02
  end
  raise "no message in #{queue.name}"
end

def take(queue, what, timeout = 5)
  Timeout.timeout(timeout) { queue.pop }
rescue Timeout::Error
  raise "timed out waiting for #{what}"
end

SCENARIOS = {
  'connect' => lambda do
    with_connection do |connection|
      channel = connection.create_channel
      queue = channel.queue('', exclusive: true)
      channel.default_exchange.publish('hello', routing_key: queue.name)
      { body: get_one(queue)[2] }
    end
  end,

  'declare-bind' => lambda do
    with_connection do |connection|
      channel = connection.create_channel
      exchange = channel.topic("#{PREFIX}.topic", durable: false)
      queue = channel.queue('', exclusive: true).bind(exchange, routing_key: 'a.*.c')
      exchange.publish('nomatch', routing_key: 'x.y.z')
      exchange.publish('match', routing_key: 'a.b.c')
      received = [get_one(queue)[2]]
      sleep 0.1
      while (message = queue.pop)[0]
        received << message[2]
      end
      exchange.delete
      { received: received }
    end
  end,

  'properties' => lambda do
    with_connection do |connection|
      channel = connection.create_channel
      queue = channel.queue('', exclusive: true)
      channel.default_exchange.publish('{"hello":"world"}',
        routing_key: queue.name,
        content_type: 'application/json',
        content_encoding: 'utf-8',
        headers: { 'x-str' => 'hello', 'x-int' => 42, 'x-bool' => true },
        delivery_mode: 2,
        priority: 5,
        correlation_id: 'corr-1',
        reply_to: 'reply.queue',
        expiration: '60000',
        message_id: 'msg-1',
        timestamp: 1_700_000_000,
        type: 'interop.test',
        app_id: 'interop')
      _, p, body = get_one(queue)
      {
        body: body,
        properties: {
          content_type: p.content_type,
          content_encoding: p.content_encoding,
          headers: p.headers,
          delivery_mode: p.delivery_mode,
          priority: p.priority,
          correlation_id: p.correlation_id,
          reply_to: p.reply_to,
          expiration: p.expiration,
          message_id: p.message_id,
          timestamp: p.timestamp&.to_i,
          type: p.type,
          app_id: p.app_id
        }
      }
    end
  end,

  'prefetch' => lambda do
    with_connection do |connection|
      channel = connection.create_channel
      queue = channel.queue('', exclusive: true)
      (1..5).each { |i| channel.default_exchange.publish("m#{i}", routing_key: queue.name) }
      channel.prefetch(2)
      deliveries = Thread::Queue.new
      consumer = queue.subscribe(manual_ack: true) { |info, _props, body| deliveries << [info, body] }
      received = []
      max_in_flight = 0
      while received.size < 5
        # Prefetch 2 means two deliveries at once (fewer only at the end)...
        in_flight = Array.new([2, 5 - received.size].min) { take(deliveries, 'the prefetch window to fill') }
        # ...and never more: leave time for any beyond the window to show up.
        sleep 0.2
        in_flight << deliveries.pop until deliveries.empty?
        max_in_flight = [max_in_flight, in_flight.size].max
        in_flight.each do |info, body|
          received << body
          channel.ack(info.delivery_tag)
        end
      end
      consumer.cancel
      { received: received, maxInFlight: max_in_flight, remaining: queue.message_count }
    end
  end,

  'confirms' => lambda do
    with_connection do |connection|
      channel = connection.create_channel
      queue = channel.queue('', exclusive: true)
      returns = Thread::Queue.new
      direct = channel.exchange('amq.direct', type: :direct, no_declare: true)
      direct.on_return { |info, _props, _body| returns << { code: info.reply_code, text: info.reply_text } }
      channel.confirm_select
      (1..10).each { |i| channel.default_exchange.publish("c#{i}", routing_key: queue.name, persistent: true) }
      direct.publish('nobody', routing_key: "#{PREFIX}.unbound", mandatory: true)
      raise 'wait_for_confirms reported nacks' unless channel.wait_for_confirms
      returned = take(returns, 'basic.return')
      nacked = channel.nacked_set.size
      { acked: 10 - nacked, nacked: nacked, queued: queue.message_count, returned: returned }
    end
  end,

  'rpc' => lambda do
    with_connection do |connection|
      # Server side: answers each request on its reply_to, echoing correlation_id.
      server = connection.create_channel
      rpc_queue = server.queue("#{PREFIX}.rpc", exclusive: true)
      rpc_queue.subscribe(manual_ack: true) do |info, props, body|
        server.default_exchange.publish("PONG #{body.split[1]}",
          routing_key: props.reply_to, correlation_id: props.correlation_id)
        server.ack(info.delivery_tag)
      end
      # Client side: a private reply queue, requests tagged with correlation ids.
      client = connection.create_channel
      reply_queue = client.queue('', exclusive: true)
      replies = Thread::Queue.new
      reply_queue.subscribe { |_info, props, body| replies << { correlation_id: props.correlation_id, body: body } }
      (1..3).each do |i|
        client.default_exchange.publish("PING #{i}",
          routing_key: rpc_queue.name, reply_to: reply_queue.name, correlation_id: "c#{i}")
      end
      answers = Array.new(3) { take(replies, 'a reply') }
      { replies: answers.sort_by { |a| a[:correlation_id] } }
    end
  end,

  'error-404' => lambda do
    with_connection do |connection|
      channel = connection.create_channel
      begin
        channel.exchange_declare("#{PREFIX}.missing", 'direct', passive: true)
        raise 'passive declare of a missing exchange succeeded'
      rescue Bunny::NotFound => e
        code = e.channel_close.reply_code
        text = e.channel_close.reply_text
      end
      connection.create_channel.queue('', exclusive: true)
      { code: code, text: text, recovered: true }
    end
  end
}.freeze

scenario = SCENARIOS.fetch(SCENARIO) { abort "unknown scenario #{SCENARIO}; known: #{SCENARIOS.keys.join(', ')}" }
begin
  puts "RESULT #{JSON.generate(scenario.call)}"
rescue StandardError => e
  warn "#{e.class}: #{e.message}\n#{e.backtrace.first(10).join("\n")}"
  exit 1
end
