// An amqp091-go client over TLS, as its users write one: DialTLS with a CA pool and a client
// certificate, PLAIN from the URL or EXTERNAL (DialTLS_ExternalAuth).
// Usage: tlsclient <amqps-url> <ca.pem> <client.pem> <client.key> <plain|external>
// Prints `RESULT {json}` and exits 0; any error exits 1.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"

	amqp "github.com/rabbitmq/amqp091-go"
)

func main() {
	if len(os.Args) != 6 {
		fail(fmt.Errorf("usage: %s <amqps-url> <ca.pem> <client.pem> <client.key> <plain|external>", os.Args[0]))
	}
	url, caFile, certFile, keyFile, mode := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5]
	pem, err := os.ReadFile(caFile)
	if err != nil {
		fail(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		fail(fmt.Errorf("no certificate in %s", caFile))
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		fail(err)
	}
	cfg := &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, ServerName: "localhost"}
	var conn *amqp.Connection
	if mode == "external" {
		conn, err = amqp.DialTLS_ExternalAuth(url, cfg)
	} else {
		conn, err = amqp.DialTLS(url, cfg)
	}
	if err != nil {
		fail(err)
	}
	ch, err := conn.Channel()
	if err != nil {
		fail(err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		fail(err)
	}
	if err := ch.Publish("", q.Name, false, false, amqp.Publishing{Body: []byte("go over tls")}); err != nil {
		fail(err)
	}
	var body string
	for i := 0; i < 100 && body == ""; i++ {
		msg, ok, err := ch.Get(q.Name, true)
		if err != nil {
			fail(err)
		}
		if ok {
			body = string(msg.Body)
		}
	}
	state := conn.ConnectionState()
	if err := conn.Close(); err != nil {
		fail(err)
	}
	version := map[uint16]string{tls.VersionTLS12: "TLS 1.2", tls.VersionTLS13: "TLS 1.3"}[state.Version]
	out, _ := json.Marshal(map[string]interface{}{"body": body, "tlsVersion": version})
	fmt.Printf("RESULT %s\n", out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}
