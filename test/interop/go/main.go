// The interop scenarios written the way an amqp091-go user writes them.
// Usage: interop-go <scenario> <amqp-url> <name-prefix>
// Prints `RESULT {json}` and exits 0; any error exits 1.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

type result map[string]interface{}

var prefix string

func main() {
	if len(os.Args) != 4 {
		fail(fmt.Errorf("usage: %s <scenario> <amqp-url> <name-prefix>", os.Args[0]))
	}
	scenario, url := os.Args[1], os.Args[2]
	prefix = os.Args[3]
	scenarios := map[string]func(*amqp.Connection) (result, error){
		"connect":      connect,
		"declare-bind": declareBind,
		"properties":   properties,
		"prefetch":     prefetch,
		"confirms":     confirms,
		"rpc":          rpc,
		"error-404":    error404,
	}
	run, ok := scenarios[scenario]
	if !ok {
		fail(fmt.Errorf("unknown scenario %q", scenario))
	}
	conn, err := amqp.Dial(url)
	if err != nil {
		fail(err)
	}
	out, err := run(conn)
	if err != nil {
		fail(err)
	}
	if err := conn.Close(); err != nil {
		fail(err)
	}
	encoded, _ := json.Marshal(out)
	fmt.Printf("RESULT %s\n", encoded)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}

// getOne polls basic.get: the message may still be in flight right after a publish.
func getOne(ch *amqp.Channel, queue string) (amqp.Delivery, error) {
	for attempt := 0; attempt < 100; attempt++ {
		msg, ok, err := ch.Get(queue, true)
		if err != nil {
			return msg, err
		}
		if ok {
			return msg, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return amqp.Delivery{}, fmt.Errorf("no message in %s", queue)
}

func exclusiveQueue(ch *amqp.Channel) (string, error) {
	q, err := ch.QueueDeclare("", false, false, true, false, nil)
	return q.Name, err
}

func connect(conn *amqp.Connection) (result, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	queue, err := exclusiveQueue(ch)
	if err != nil {
		return nil, err
	}
	if err := ch.Publish("", queue, false, false, amqp.Publishing{Body: []byte("hello")}); err != nil {
		return nil, err
	}
	msg, err := getOne(ch, queue)
	if err != nil {
		return nil, err
	}
	return result{"body": string(msg.Body)}, nil
}

func declareBind(conn *amqp.Connection) (result, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	exchange := prefix + ".topic"
	if err := ch.ExchangeDeclare(exchange, "topic", false, false, false, false, nil); err != nil {
		return nil, err
	}
	queue, err := exclusiveQueue(ch)
	if err != nil {
		return nil, err
	}
	if err := ch.QueueBind(queue, "a.*.c", exchange, false, nil); err != nil {
		return nil, err
	}
	for key, body := range map[string]string{"x.y.z": "nomatch", "a.b.c": "match"} {
		if err := ch.Publish(exchange, key, false, false, amqp.Publishing{Body: []byte(body)}); err != nil {
			return nil, err
		}
	}
	first, err := getOne(ch, queue)
	if err != nil {
		return nil, err
	}
	received := []string{string(first.Body)}
	time.Sleep(100 * time.Millisecond)
	for {
		msg, ok, err := ch.Get(queue, true)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		received = append(received, string(msg.Body))
	}
	if err := ch.ExchangeDelete(exchange, false, false); err != nil {
		return nil, err
	}
	return result{"received": received}, nil
}

func properties(conn *amqp.Connection) (result, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	queue, err := exclusiveQueue(ch)
	if err != nil {
		return nil, err
	}
	err = ch.Publish("", queue, false, false, amqp.Publishing{
		ContentType:     "application/json",
		ContentEncoding: "utf-8",
		Headers:         amqp.Table{"x-str": "hello", "x-int": int32(42), "x-bool": true},
		DeliveryMode:    amqp.Persistent,
		Priority:        5,
		CorrelationId:   "corr-1",
		ReplyTo:         "reply.queue",
		Expiration:      "60000",
		MessageId:       "msg-1",
		Timestamp:       time.Unix(1700000000, 0),
		Type:            "interop.test",
		AppId:           "interop",
		Body:            []byte(`{"hello":"world"}`),
	})
	if err != nil {
		return nil, err
	}
	m, err := getOne(ch, queue)
	if err != nil {
		return nil, err
	}
	return result{
		"body": string(m.Body),
		"properties": result{
			"content_type":     m.ContentType,
			"content_encoding": m.ContentEncoding,
			"headers":          m.Headers,
			"delivery_mode":    m.DeliveryMode,
			"priority":         m.Priority,
			"correlation_id":   m.CorrelationId,
			"reply_to":         m.ReplyTo,
			"expiration":       m.Expiration,
			"message_id":       m.MessageId,
			"timestamp":        m.Timestamp.Unix(),
			"type":             m.Type,
			"app_id":           m.AppId,
		},
	}, nil
}

func prefetch(conn *amqp.Connection) (result, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	queue, err := exclusiveQueue(ch)
	if err != nil {
		return nil, err
	}
	for i := 1; i <= 5; i++ {
		if err := ch.Publish("", queue, false, false, amqp.Publishing{Body: []byte(fmt.Sprintf("m%d", i))}); err != nil {
			return nil, err
		}
	}
	if err := ch.Qos(2, 0, false); err != nil {
		return nil, err
	}
	deliveries, err := ch.Consume(queue, "interop-consumer", false, false, false, false, nil)
	if err != nil {
		return nil, err
	}
	received := []string{}
	maxInFlight := 0
	for len(received) < 5 {
		// Prefetch 2 means two deliveries at once (fewer only at the end)...
		var inFlight []amqp.Delivery
		want := 5 - len(received)
		if want > 2 {
			want = 2
		}
		for len(inFlight) < want {
			select {
			case d := <-deliveries:
				inFlight = append(inFlight, d)
			case <-time.After(5 * time.Second):
				return nil, errors.New("timed out waiting for the prefetch window to fill")
			}
		}
		// ...and never more: leave time for any beyond the window to show up.
		deadline := time.After(200 * time.Millisecond)
	collect:
		for {
			select {
			case d := <-deliveries:
				inFlight = append(inFlight, d)
			case <-deadline:
				break collect
			}
		}
		if len(inFlight) > maxInFlight {
			maxInFlight = len(inFlight)
		}
		for _, d := range inFlight {
			received = append(received, string(d.Body))
			if err := d.Ack(false); err != nil {
				return nil, err
			}
		}
	}
	if err := ch.Cancel("interop-consumer", false); err != nil {
		return nil, err
	}
	q, err := ch.QueueInspect(queue)
	if err != nil {
		return nil, err
	}
	return result{"received": received, "maxInFlight": maxInFlight, "remaining": q.Messages}, nil
}

func confirms(conn *amqp.Connection) (result, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	queue, err := exclusiveQueue(ch)
	if err != nil {
		return nil, err
	}
	returns := ch.NotifyReturn(make(chan amqp.Return, 1))
	if err := ch.Confirm(false); err != nil {
		return nil, err
	}
	var pending []*amqp.DeferredConfirmation
	for i := 1; i <= 10; i++ {
		confirm, err := ch.PublishWithDeferredConfirm("", queue, false, false,
			amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte(fmt.Sprintf("c%d", i))})
		if err != nil {
			return nil, err
		}
		pending = append(pending, confirm)
	}
	if err := ch.Publish("amq.direct", prefix+".unbound", true, false, amqp.Publishing{Body: []byte("nobody")}); err != nil {
		return nil, err
	}
	acked, nacked := 0, 0
	for _, confirm := range pending {
		if confirm.Wait() {
			acked++
		} else {
			nacked++
		}
	}
	var returned result
	select {
	case r := <-returns:
		returned = result{"code": r.ReplyCode, "text": r.ReplyText}
	case <-time.After(5 * time.Second):
		return nil, errors.New("timed out waiting for basic.return")
	}
	q, err := ch.QueueInspect(queue)
	if err != nil {
		return nil, err
	}
	return result{"acked": acked, "nacked": nacked, "queued": q.Messages, "returned": returned}, nil
}

func rpc(conn *amqp.Connection) (result, error) {
	// Server side: answers each request on its reply_to, echoing correlation_id.
	server, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	rpcQueue := prefix + ".rpc"
	if _, err := server.QueueDeclare(rpcQueue, false, false, true, false, nil); err != nil {
		return nil, err
	}
	requests, err := server.Consume(rpcQueue, "", false, false, false, false, nil)
	if err != nil {
		return nil, err
	}
	go func() {
		for request := range requests {
			n := strings.Fields(string(request.Body))[1]
			_ = server.Publish("", request.ReplyTo, false, false, amqp.Publishing{
				CorrelationId: request.CorrelationId,
				Body:          []byte("PONG " + n),
			})
			_ = request.Ack(false)
		}
	}()
	// Client side: a private reply queue, requests tagged with correlation ids.
	client, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	replyQueue, err := exclusiveQueue(client)
	if err != nil {
		return nil, err
	}
	replies, err := client.Consume(replyQueue, "", true, false, false, false, nil)
	if err != nil {
		return nil, err
	}
	for i := 1; i <= 3; i++ {
		err := client.Publish("", rpcQueue, false, false, amqp.Publishing{
			ReplyTo:       replyQueue,
			CorrelationId: fmt.Sprintf("c%d", i),
			Body:          []byte(fmt.Sprintf("PING %d", i)),
		})
		if err != nil {
			return nil, err
		}
	}
	var answers []result
	for len(answers) < 3 {
		select {
		case reply := <-replies:
			answers = append(answers, result{"correlation_id": reply.CorrelationId, "body": string(reply.Body)})
		case <-time.After(5 * time.Second):
			return nil, errors.New("timed out waiting for replies")
		}
	}
	sort.Slice(answers, func(i, j int) bool {
		return answers[i]["correlation_id"].(string) < answers[j]["correlation_id"].(string)
	})
	return result{"replies": answers}, nil
}

func error404(conn *amqp.Connection) (result, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	err = ch.ExchangeDeclarePassive(prefix+".missing", "direct", false, false, false, false, nil)
	var amqpErr *amqp.Error
	if !errors.As(err, &amqpErr) {
		return nil, fmt.Errorf("expected an *amqp.Error, got %v", err)
	}
	fresh, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	if _, err := exclusiveQueue(fresh); err != nil {
		return nil, err
	}
	return result{"code": amqpErr.Code, "text": amqpErr.Reason, "recovered": true}, nil
}
