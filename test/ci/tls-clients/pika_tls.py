"""A pika client over TLS, as its users write one: ssl.SSLContext with the CA and a client
certificate, PLAIN from the URL or EXTERNAL (pika.credentials.ExternalCredentials).
Usage: pika_tls.py <host> <port> <ca.pem> <client.pem> <client.key> <plain|external>
Prints `RESULT {json}` and exits 0; any error exits 1."""
import json
import ssl
import sys

import pika


def main():
    host, port, ca, cert, key, mode = sys.argv[1:7]
    context = ssl.create_default_context(cafile=ca)
    context.load_cert_chain(cert, key)
    credentials = pika.credentials.ExternalCredentials() if mode == 'external' else pika.PlainCredentials('guest', 'guest')
    params = pika.ConnectionParameters(host=host, port=int(port), credentials=credentials,
                                       ssl_options=pika.SSLOptions(context, server_hostname='localhost'))
    conn = pika.BlockingConnection(params)
    ch = conn.channel()
    q = ch.queue_declare('', exclusive=True).method.queue
    ch.basic_publish('', q, b'pika over tls')
    body = None
    for _ in range(100):
        method, _props, data = ch.basic_get(q, auto_ack=True)
        if method:
            body = data.decode()
            break
    conn.close()
    print('RESULT ' + json.dumps({'body': body}))


if __name__ == '__main__':
    main()
