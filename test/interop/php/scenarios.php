<?php
// The interop scenarios written the way a php-amqplib user writes them.
// Usage: php scenarios.php <scenario> <amqp-url> <name-prefix>
// Prints `RESULT {json}` and exits 0; any exception exits 1.
declare(strict_types=1);

require_once '/usr/share/php/PhpAmqpLib/autoload.php';

use PhpAmqpLib\Channel\AMQPChannel;
use PhpAmqpLib\Connection\AMQPStreamConnection;
use PhpAmqpLib\Exception\AMQPProtocolChannelException;
use PhpAmqpLib\Exception\AMQPTimeoutException;
use PhpAmqpLib\Message\AMQPMessage;
use PhpAmqpLib\Wire\AMQPTable;

[, $scenario, $url, $prefix] = $argv + [null, '', '', ''];

/** php-amqplib takes connection parameters, not a URL: split it as RabbitMQ's URI spec says. */
function connect_url(string $url): AMQPStreamConnection
{
    $parts = parse_url($url);
    $vhost = isset($parts['path']) && $parts['path'] !== '/' ? rawurldecode(substr($parts['path'], 1)) : '/';
    return new AMQPStreamConnection(
        $parts['host'],
        $parts['port'] ?? 5672,
        rawurldecode($parts['user'] ?? 'guest'),
        rawurldecode($parts['pass'] ?? 'guest'),
        $vhost
    );
}

function with_connection(string $url, callable $work): array
{
    $connection = connect_url($url);
    try {
        return $work($connection);
    } finally {
        $connection->close();
    }
}

function exclusive_queue(AMQPChannel $channel): string
{
    [$queue] = $channel->queue_declare('', false, false, true, false);
    return $queue;
}

/** basic.get may race the publish on a just-declared queue; poll briefly. */
function get_one(AMQPChannel $channel, string $queue): AMQPMessage
{
    for ($attempt = 0; $attempt < 100; $attempt++) {
        $message = $channel->basic_get($queue, true);
        if ($message !== null) {
            return $message;
        }
        usleep(20000);
    }
    throw new RuntimeException("no message in $queue");
}

/**
 * Dispatches incoming frames until $done() or the deadline; returns whether $done() held.
 * ($done must capture by reference: arrow functions copy the variables they see.)
 */
function wait_until(AMQPChannel $channel, callable $done, float $seconds): bool
{
    $deadline = microtime(true) + $seconds;
    while (!$done()) {
        $left = $deadline - microtime(true);
        if ($left <= 0) {
            return false;
        }
        try {
            $channel->wait(null, false, $left);
        } catch (AMQPTimeoutException $e) {
            return $done();
        }
    }
    return true;
}

function message_count(AMQPChannel $channel, string $queue): int
{
    [, $messages] = $channel->queue_declare($queue, true);
    return $messages;
}

$scenarios = [
    'connect' => function (AMQPStreamConnection $connection): array {
        $channel = $connection->channel();
        $queue = exclusive_queue($channel);
        $channel->basic_publish(new AMQPMessage('hello'), '', $queue);
        return ['body' => get_one($channel, $queue)->getBody()];
    },

    'declare-bind' => function (AMQPStreamConnection $connection) use ($prefix): array {
        $channel = $connection->channel();
        $exchange = "$prefix.topic";
        $channel->exchange_declare($exchange, 'topic', false, false, false);
        $queue = exclusive_queue($channel);
        $channel->queue_bind($queue, $exchange, 'a.*.c');
        $channel->basic_publish(new AMQPMessage('nomatch'), $exchange, 'x.y.z');
        $channel->basic_publish(new AMQPMessage('match'), $exchange, 'a.b.c');
        $received = [get_one($channel, $queue)->getBody()];
        usleep(100000);
        while (($message = $channel->basic_get($queue, true)) !== null) {
            $received[] = $message->getBody();
        }
        $channel->exchange_delete($exchange);
        return ['received' => $received];
    },

    'properties' => function (AMQPStreamConnection $connection): array {
        $channel = $connection->channel();
        $queue = exclusive_queue($channel);
        $channel->basic_publish(new AMQPMessage('{"hello":"world"}', [
            'content_type' => 'application/json',
            'content_encoding' => 'utf-8',
            'application_headers' => new AMQPTable(['x-str' => 'hello', 'x-int' => 42, 'x-bool' => true]),
            'delivery_mode' => AMQPMessage::DELIVERY_MODE_PERSISTENT,
            'priority' => 5,
            'correlation_id' => 'corr-1',
            'reply_to' => 'reply.queue',
            'expiration' => '60000',
            'message_id' => 'msg-1',
            'timestamp' => 1700000000,
            'type' => 'interop.test',
            'app_id' => 'interop',
        ]), '', $queue);
        $message = get_one($channel, $queue);
        $p = $message->get_properties();
        return [
            'body' => $message->getBody(),
            'properties' => [
                'content_type' => $p['content_type'] ?? null,
                'content_encoding' => $p['content_encoding'] ?? null,
                'headers' => isset($p['application_headers']) ? $p['application_headers']->getNativeData() : null,
                'delivery_mode' => $p['delivery_mode'] ?? null,
                'priority' => $p['priority'] ?? null,
                'correlation_id' => $p['correlation_id'] ?? null,
                'reply_to' => $p['reply_to'] ?? null,
                'expiration' => $p['expiration'] ?? null,
                'message_id' => $p['message_id'] ?? null,
                'timestamp' => $p['timestamp'] ?? null,
                'type' => $p['type'] ?? null,
                'app_id' => $p['app_id'] ?? null,
            ],
        ];
    },

    'prefetch' => function (AMQPStreamConnection $connection): array {
        $channel = $connection->channel();
        $queue = exclusive_queue($channel);
        for ($i = 1; $i <= 5; $i++) {
            $channel->basic_publish(new AMQPMessage("m$i"), '', $queue);
        }
        $channel->basic_qos(0, 2, false);
        $inFlight = [];
        $tag = $channel->basic_consume($queue, '', false, false, false, false, function (AMQPMessage $message) use (&$inFlight) {
            $inFlight[] = $message;
        });
        $received = [];
        $maxInFlight = 0;
        while (count($received) < 5) {
            // Prefetch 2 means two deliveries at once (fewer only at the end)...
            $want = min(2, 5 - count($received));
            if (!wait_until($channel, function () use (&$inFlight, $want) { return count($inFlight) >= $want; }, 5.0)) {
                throw new RuntimeException('timed out waiting for the prefetch window to fill');
            }
            // ...and never more: leave time for any beyond the window to show up.
            wait_until($channel, fn () => false, 0.2);
            $maxInFlight = max($maxInFlight, count($inFlight));
            foreach ($inFlight as $message) {
                $received[] = $message->getBody();
                $message->ack();
            }
            $inFlight = [];
        }
        $channel->basic_cancel($tag);
        return ['received' => $received, 'maxInFlight' => $maxInFlight, 'remaining' => message_count($channel, $queue)];
    },

    'confirms' => function (AMQPStreamConnection $connection) use ($prefix): array {
        $channel = $connection->channel();
        $queue = exclusive_queue($channel);
        $acked = 0;
        $nacked = 0;
        $returned = null;
        // Publishes 1..10 go to the queue; publish 11 is the mandatory one that comes back.
        $channel->set_ack_handler(function (AMQPMessage $m) use (&$acked) {
            if ($m->getDeliveryTag() <= 10) {
                $acked++;
            }
        });
        $channel->set_nack_handler(function (AMQPMessage $m) use (&$nacked) {
            if ($m->getDeliveryTag() <= 10) {
                $nacked++;
            }
        });
        $channel->set_return_listener(function ($code, $text) use (&$returned) {
            $returned = ['code' => $code, 'text' => $text];
        });
        $channel->confirm_select();
        for ($i = 1; $i <= 10; $i++) {
            $channel->basic_publish(new AMQPMessage("c$i", ['delivery_mode' => AMQPMessage::DELIVERY_MODE_PERSISTENT]), '', $queue);
        }
        $channel->basic_publish(new AMQPMessage('nobody'), 'amq.direct', "$prefix.unbound", true);
        $channel->wait_for_pending_acks_returns(5.0);
        return ['acked' => $acked, 'nacked' => $nacked, 'queued' => message_count($channel, $queue), 'returned' => $returned];
    },

    'rpc' => function (AMQPStreamConnection $connection) use ($prefix): array {
        // php-amqplib dispatches per channel from a single thread, so the server
        // and client consumers share one channel here.
        $channel = $connection->channel();
        $rpcQueue = "$prefix.rpc";
        $channel->queue_declare($rpcQueue, false, false, true, false);
        // Server side: answers each request on its reply_to, echoing correlation_id.
        $channel->basic_consume($rpcQueue, '', false, false, false, false, function (AMQPMessage $request) use ($channel) {
            $n = explode(' ', $request->getBody())[1];
            $channel->basic_publish(
                new AMQPMessage("PONG $n", ['correlation_id' => $request->get('correlation_id')]),
                '',
                $request->get('reply_to')
            );
            $request->ack();
        });
        // Client side: a private reply queue, requests tagged with correlation ids.
        $replyQueue = exclusive_queue($channel);
        $replies = [];
        $channel->basic_consume($replyQueue, '', false, true, false, false, function (AMQPMessage $reply) use (&$replies) {
            $replies[] = ['correlation_id' => $reply->get('correlation_id'), 'body' => $reply->getBody()];
        });
        for ($i = 1; $i <= 3; $i++) {
            $channel->basic_publish(
                new AMQPMessage("PING $i", ['reply_to' => $replyQueue, 'correlation_id' => "c$i"]),
                '',
                $rpcQueue
            );
        }
        if (!wait_until($channel, function () use (&$replies) { return count($replies) === 3; }, 5.0)) {
            throw new RuntimeException('timed out waiting for replies');
        }
        usort($replies, fn ($a, $b) => strcmp($a['correlation_id'], $b['correlation_id']));
        return ['replies' => $replies];
    },

    'error-404' => function (AMQPStreamConnection $connection) use ($prefix): array {
        $channel = $connection->channel();
        try {
            $channel->exchange_declare("$prefix.missing", 'direct', true);
            throw new RuntimeException('passive declare of a missing exchange succeeded');
        } catch (AMQPProtocolChannelException $e) {
            $code = $e->getCode();
            $text = $e->getMessage();
        }
        exclusive_queue($connection->channel());
        return ['code' => $code, 'text' => $text, 'recovered' => true];
    },
];

if (!isset($scenarios[$scenario])) {
    fwrite(STDERR, "unknown scenario $scenario; known: " . implode(', ', array_keys($scenarios)) . "\n");
    exit(2);
}
try {
    $result = with_connection($url, $scenarios[$scenario]);
    echo 'RESULT ' . json_encode($result, JSON_UNESCAPED_SLASHES) . "\n";
} catch (Throwable $e) {
    fwrite(STDERR, get_class($e) . ': ' . $e->getMessage() . "\n" . $e->getTraceAsString() . "\n");
    exit(1);
}
