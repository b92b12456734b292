/*
 * The interop scenarios written the way a rabbitmq-c (librabbitmq) user writes
 * them: the C library under amqp-tools, for what the command-line tools cannot
 * express (reading properties back, publisher confirms, RPC).
 * Usage: interop-c <scenario> <amqp-url> <name-prefix>
 * Prints `RESULT {json}` and exits 0; any failure exits 1.
 */
#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static const char *prefix;

/* ---- failure reporting ---------------------------------------------- */

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fputs("error: ", stderr);
  vfprintf(stderr, fmt, args);
  fputc('\n', stderr);
  va_end(args);
  exit(1);
}

static void check_status(int status, const char *what) {
  if (status != AMQP_STATUS_OK) die("%s: %s", what, amqp_error_string2(status));
}

static void check_reply(amqp_rpc_reply_t reply, const char *what) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      die("%s: %s", what, amqp_error_string2(reply.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        amqp_channel_close_t *m = reply.reply.decoded;
        die("%s: channel error %u %.*s", what, m->reply_code, (int)m->reply_text.len, (char *)m->reply_text.bytes);
      }
      if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_connection_close_t *m = reply.reply.decoded;
        die("%s: connection error %u %.*s", what, m->reply_code, (int)m->reply_text.len, (char *)m->reply_text.bytes);
      }
      die("%s: unexpected server method 0x%08x", what, reply.reply.id);
    default:
      die("%s: missing RPC reply", what);
  }
}

/* ---- a tiny JSON writer for the RESULT line -------------------------- */

static char out[16384];
static size_t out_len;

static void emit(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(out + out_len, sizeof out - out_len, fmt, args);
  va_end(args);
  if (n < 0 || (size_t)n >= sizeof out - out_len) die("result too large");
  out_len += (size_t)n;
}

static void emit_string(const void *bytes, size_t len) {
  const unsigned char *s = bytes;
  emit("\"");
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '"' || s[i] == '\\') emit("\\%c", s[i]);
    else if (s[i] < 0x20) emit("\\u%04x", s[i]);
    else emit("%c", s[i]);
  }
  emit("\"");
}

static void emit_bytes(amqp_bytes_t b) { emit_string(b.bytes, b.len); }

/* ---- connection helpers ---------------------------------------------- */

static amqp_connection_state_t open_connection(const char *url) {
  char *copy = strdup(url);
  struct amqp_connection_info info;
  amqp_default_connection_info(&info);
  check_status(amqp_parse_url(copy, &info), "parsing the AMQP URL");
  amqp_connection_state_t conn = amqp_new_connection();
  amqp_socket_t *socket = amqp_tcp_socket_new(conn);
  if (!socket) die("creating a TCP socket");
  check_status(amqp_socket_open(socket, info.host, info.port), "opening the socket");
  check_reply(amqp_login(conn, info.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, info.user, info.password), "logging in");
  free(copy);
  return conn;
}

static void open_channel(amqp_connection_state_t conn, amqp_channel_t channel) {
  amqp_channel_open(conn, channel);
  check_reply(amqp_get_rpc_reply(conn), "opening a channel");
}

static void close_connection(amqp_connection_state_t conn) {
  check_reply(amqp_connection_close(conn, AMQP_REPLY_SUCCESS), "closing the connection");
  check_status(amqp_destroy_connection(conn), "destroying the connection");
}

/* Returns a server-named exclusive queue's name (owned by the caller). */
static amqp_bytes_t exclusive_queue(amqp_connection_state_t conn, amqp_channel_t channel) {
  amqp_queue_declare_ok_t *ok =
      amqp_queue_declare(conn, channel, amqp_empty_bytes, 0, 0, 1, 0, amqp_empty_table);
  check_reply(amqp_get_rpc_reply(conn), "declaring a queue");
  return amqp_bytes_malloc_dup(ok->queue);
}

static uint32_t message_count(amqp_connection_state_t conn, amqp_channel_t channel, amqp_bytes_t queue) {
  amqp_queue_declare_ok_t *ok = amqp_queue_declare(conn, channel, queue, 1, 0, 1, 0, amqp_empty_table);
  check_reply(amqp_get_rpc_reply(conn), "passive queue declare");
  return ok->message_count;
}

static void publish(amqp_connection_state_t conn, amqp_channel_t channel, const char *exchange,
                    amqp_bytes_t routing_key, int mandatory, const amqp_basic_properties_t *props,
                    const char *body) {
  check_status(amqp_basic_publish(conn, channel, amqp_cstring_bytes(exchange), routing_key, mandatory, 0, props,
                                  amqp_cstring_bytes(body)),
               "publishing");
}

/* basic.get, polled briefly: the message may still be in flight right after a publish. */
static int try_get(amqp_connection_state_t conn, amqp_channel_t channel, amqp_bytes_t queue, amqp_message_t *message) {
  amqp_rpc_reply_t reply = amqp_basic_get(conn, channel, queue, 1);
  check_reply(reply, "basic.get");
  if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) return 0;
  check_reply(amqp_read_message(conn, channel, message, 0), "reading a message");
  return 1;
}

static void get_one(amqp_connection_state_t conn, amqp_channel_t channel, amqp_bytes_t queue, amqp_message_t *message) {
  for (int attempt = 0; attempt < 100; attempt++) {
    if (try_get(conn, channel, queue, message)) return;
    usleep(20000);
  }
  die("no message in %.*s", (int)queue.len, (char *)queue.bytes);
}

/* ---- scenarios --------------------------------------------------------- */

static void scenario_connect(amqp_connection_state_t conn) {
  open_channel(conn, 1);
  amqp_bytes_t queue = exclusive_queue(conn, 1);
  publish(conn, 1, "", queue, 0, NULL, "hello");
  amqp_message_t message;
  get_one(conn, 1, queue, &message);
  emit("{\"body\":");
  emit_bytes(message.body);
  emit("}");
  amqp_destroy_message(&message);
  amqp_bytes_free(queue);
}

static void scenario_declare_bind(amqp_connection_state_t conn) {
  char exchange[256];
  snprintf(exchange, sizeof exchange, "%s.topic", prefix);
  open_channel(conn, 1);
  amqp_exchange_declare(conn, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes("topic"), 0, 0, 0, 0, amqp_empty_table);
  check_reply(amqp_get_rpc_reply(conn), "declaring the exchange");
  amqp_bytes_t queue = exclusive_queue(conn, 1);
  amqp_queue_bind(conn, 1, queue, amqp_cstring_bytes(exchange), amqp_cstring_bytes("a.*.c"), amqp_empty_table);
  check_reply(amqp_get_rpc_reply(conn), "binding the queue");
  publish(conn, 1, exchange, amqp_cstring_bytes("x.y.z"), 0, NULL, "nomatch");
  publish(conn, 1, exchange, amqp_cstring_bytes("a.b.c"), 0, NULL, "match");
  amqp_message_t message;
  get_one(conn, 1, queue, &message);
  emit("{\"received\":[");
  emit_bytes(message.body);
  amqp_destroy_message(&message);
  usleep(100000);
  while (try_get(conn, 1, queue, &message)) {
    emit(",");
    emit_bytes(message.body);
    amqp_destroy_message(&message);
  }
  emit("]}");
  amqp_exchange_delete(conn, 1, amqp_cstring_bytes(exchange), 0);
  check_reply(amqp_get_rpc_reply(conn), "deleting the exchange");
  amqp_bytes_free(queue);
}

static void emit_field(const amqp_field_value_t *v) {
  switch (v->kind) {
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES: emit_bytes(v->value.bytes); break;
    case AMQP_FIELD_KIND_BOOLEAN: emit(v->value.boolean ? "true" : "false"); break;
    case AMQP_FIELD_KIND_I8: emit("%d", v->value.i8); break;
    case AMQP_FIELD_KIND_U8: emit("%u", v->value.u8); break;
    case AMQP_FIELD_KIND_I16: emit("%d", v->value.i16); break;
    case AMQP_FIELD_KIND_U16: emit("%u", v->value.u16); break;
    case AMQP_FIELD_KIND_I32: emit("%d", v->value.i32); break;
    case AMQP_FIELD_KIND_U32: emit("%u", v->value.u32); break;
    case AMQP_FIELD_KIND_I64: emit("%lld", (long long)v->value.i64); break;
    case AMQP_FIELD_KIND_U64: emit("%llu", (unsigned long long)v->value.u64); break;
    default: emit("\"<field kind %c>\"", v->kind);
  }
}

static void scenario_properties(amqp_connection_state_t conn) {
  open_channel(conn, 1);
  amqp_bytes_t queue = exclusive_queue(conn, 1);
  amqp_table_entry_t entries[3];
  entries[0].key = amqp_cstring_bytes("x-str");
  entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
  entries[0].value.value.bytes = amqp_cstring_bytes("hello");
  entries[1].key = amqp_cstring_bytes("x-int");
  entries[1].value.kind = AMQP_FIELD_KIND_I32;
  entries[1].value.value.i32 = 42;
  entries[2].key = amqp_cstring_bytes("x-bool");
  entries[2].value.kind = AMQP_FIELD_KIND_BOOLEAN;
  entries[2].value.value.boolean = 1;
  amqp_basic_properties_t props;
  memset(&props, 0, sizeof props);
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG | AMQP_BASIC_HEADERS_FLAG |
                 AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_PRIORITY_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG |
                 AMQP_BASIC_REPLY_TO_FLAG | AMQP_BASIC_EXPIRATION_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
                 AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_APP_ID_FLAG;
  props.content_type = amqp_cstring_bytes("application/json");
  props.content_encoding = amqp_cstring_bytes("utf-8");
  props.headers.num_entries = 3;
  props.headers.entries = entries;
  props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
  props.priority = 5;
  props.correlation_id = amqp_cstring_bytes("corr-1");
  props.reply_to = amqp_cstring_bytes("reply.queue");
  props.expiration = amqp_cstring_bytes("60000");
  props.message_id = amqp_cstring_bytes("msg-1");
  props.timestamp = 1700000000;
  props.type = amqp_cstring_bytes("interop.test");
  props.app_id = amqp_cstring_bytes("interop");
  publish(conn, 1, "", queue, 0, &props, "{\"hello\":\"world\"}");

  amqp_message_t message;
  get_one(conn, 1, queue, &message);
  amqp_basic_properties_t *p = &message.properties;
  emit("{\"body\":");
  emit_bytes(message.body);
  emit(",\"properties\":{");
#define BYTES_PROP(flag, name, field)        \
  emit("\"" name "\":");                     \
  if (p->_flags & (flag)) emit_bytes(p->field); \
  else emit("null");
  BYTES_PROP(AMQP_BASIC_CONTENT_TYPE_FLAG, "content_type", content_type);
  emit(",");
  BYTES_PROP(AMQP_BASIC_CONTENT_ENCODING_FLAG, "content_encoding", content_encoding);
  emit(",\"headers\":{");
  if (p->_flags & AMQP_BASIC_HEADERS_FLAG) {
    for (int i = 0; i < p->headers.num_entries; i++) {
      if (i) emit(",");
      emit_bytes(p->headers.entries[i].key);
      emit(":");
      emit_field(&p->headers.entries[i].value);
    }
  }
  emit("},\"delivery_mode\":%u,\"priority\":%u,", p->delivery_mode, p->priority);
  BYTES_PROP(AMQP_BASIC_CORRELATION_ID_FLAG, "correlation_id", correlation_id);
  emit(",");
  BYTES_PROP(AMQP_BASIC_REPLY_TO_FLAG, "reply_to", reply_to);
  emit(",");
  BYTES_PROP(AMQP_BASIC_EXPIRATION_FLAG, "expiration", expiration);
  emit(",");
  BYTES_PROP(AMQP_BASIC_MESSAGE_ID_FLAG, "message_id", message_id);
  emit(",\"timestamp\":%llu,", (unsigned long long)p->timestamp);
  BYTES_PROP(AMQP_BASIC_TYPE_FLAG, "type", type);
  emit(",");
  BYTES_PROP(AMQP_BASIC_APP_ID_FLAG, "app_id", app_id);
  emit("}}");
#undef BYTES_PROP
  amqp_destroy_message(&message);
  amqp_bytes_free(queue);
}

/* Waits for one delivery; returns 0 on timeout. */
static int next_delivery(amqp_connection_state_t conn, amqp_envelope_t *envelope, long timeout_us) {
  struct timeval timeout = {timeout_us / 1000000, timeout_us % 1000000};
  amqp_maybe_release_buffers(conn);
  amqp_rpc_reply_t reply = amqp_consume_message(conn, envelope, &timeout, 0);
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_TIMEOUT) return 0;
  check_reply(reply, "consuming");
  return 1;
}

static void scenario_prefetch(amqp_connection_state_t conn) {
  open_channel(conn, 1);
  amqp_bytes_t queue = exclusive_queue(conn, 1);
  for (int i = 1; i <= 5; i++) {
    char body[8];
    snprintf(body, sizeof body, "m%d", i);
    publish(conn, 1, "", queue, 0, NULL, body);
  }
  amqp_basic_qos(conn, 1, 0, 2, 0);
  check_reply(amqp_get_rpc_reply(conn), "basic.qos");
  amqp_basic_consume(conn, 1, queue, amqp_cstring_bytes("interop-consumer"), 0, 0, 0, amqp_empty_table);
  check_reply(amqp_get_rpc_reply(conn), "basic.consume");
  int received = 0, max_in_flight = 0;
  emit("{\"received\":[");
  while (received < 5) {
    uint64_t tags[16];
    int in_flight = 0;
    int want = 5 - received < 2 ? 5 - received : 2;
    amqp_envelope_t envelope;
    /* Prefetch 2 means two deliveries at once (fewer only at the end)... */
    for (;;) {
      long timeout_us = in_flight < want ? 5000000 : 200000; /* ...and never more: leave time for any beyond it. */
      if (!next_delivery(conn, &envelope, timeout_us)) {
        if (in_flight < want) die("timed out waiting for the prefetch window to fill");
        break;
      }
      if (in_flight == 16) die("far more deliveries than the prefetch allows");
      emit(received++ ? "," : "");
      emit_bytes(envelope.message.body);
      tags[in_flight++] = envelope.delivery_tag;
      amqp_destroy_envelope(&envelope);
    }
    if (in_flight > max_in_flight) max_in_flight = in_flight;
    for (int i = 0; i < in_flight; i++) check_status(amqp_basic_ack(conn, 1, tags[i], 0), "basic.ack");
  }
  amqp_basic_cancel(conn, 1, amqp_cstring_bytes("interop-consumer"));
  check_reply(amqp_get_rpc_reply(conn), "basic.cancel");
  emit("],\"maxInFlight\":%d,\"remaining\":%u}", max_in_flight, message_count(conn, 1, queue));
  amqp_bytes_free(queue);
}

static long long now_us(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void scenario_confirms(amqp_connection_state_t conn) {
  open_channel(conn, 1);
  amqp_bytes_t queue = exclusive_queue(conn, 1);
  amqp_confirm_select(conn, 1);
  check_reply(amqp_get_rpc_reply(conn), "confirm.select");
  amqp_basic_properties_t persistent;
  persistent._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  persistent.delivery_mode = AMQP_DELIVERY_PERSISTENT;
  for (int i = 1; i <= 10; i++) {
    char body[8];
    snprintf(body, sizeof body, "c%d", i);
    publish(conn, 1, "", queue, 0, &persistent, body);
  }
  /* Publishes 1..10 go to the queue; publish 11 is the mandatory one that comes back. */
  char unbound[256];
  snprintf(unbound, sizeof unbound, "%s.unbound", prefix);
  publish(conn, 1, "amq.direct", amqp_cstring_bytes(unbound), 1, NULL, "nobody");

  int settled[12] = {0}; /* 1 = acked, 2 = nacked, indexed by delivery tag */
  int acked = 0, nacked = 0, returned = 0;
  unsigned return_code = 0;
  char return_text[256] = "";
  long long deadline = now_us() + 5000000;
  while (acked + nacked < 11 || !returned) {
    long long left = deadline - now_us();
    if (left <= 0) die("timed out waiting for confirms (%d acked, %d nacked, return %d)", acked, nacked, returned);
    struct timeval timeout = {left / 1000000, left % 1000000};
    amqp_frame_t frame;
    int status = amqp_simple_wait_frame_noblock(conn, &frame, &timeout);
    if (status == AMQP_STATUS_TIMEOUT) continue;
    check_status(status, "waiting for confirms");
    if (frame.frame_type != AMQP_FRAME_METHOD) continue;
    amqp_method_number_t id = frame.payload.method.id;
    if (id == AMQP_BASIC_ACK_METHOD || id == AMQP_BASIC_NACK_METHOD) {
      uint64_t tag;
      amqp_boolean_t multiple;
      if (id == AMQP_BASIC_ACK_METHOD) {
        amqp_basic_ack_t *m = frame.payload.method.decoded;
        tag = m->delivery_tag;
        multiple = m->multiple;
      } else {
        amqp_basic_nack_t *m = frame.payload.method.decoded;
        tag = m->delivery_tag;
        multiple = m->multiple;
      }
      for (uint64_t t = multiple ? 1 : tag; t <= tag && t <= 11; t++) {
        if (settled[t]) continue;
        settled[t] = id == AMQP_BASIC_ACK_METHOD ? 1 : 2;
        if (settled[t] == 1) acked++;
        else nacked++;
      }
    } else if (id == AMQP_BASIC_RETURN_METHOD) {
      amqp_basic_return_t *m = frame.payload.method.decoded;
      return_code = m->reply_code;
      snprintf(return_text, sizeof return_text, "%.*s", (int)m->reply_text.len, (char *)m->reply_text.bytes);
      amqp_message_t message; /* the returned message's header and body follow */
      check_reply(amqp_read_message(conn, frame.channel, &message, 0), "reading the returned message");
      amqp_destroy_message(&message);
      returned = 1;
    } else {
      die("unexpected method 0x%08x while waiting for confirms", id);
    }
  }
  /* Only the 10 queued publishes are reported; tag 11 is the returned one. */
  int queued_acked = acked - (settled[11] == 1), queued_nacked = nacked - (settled[11] == 2);
  emit("{\"acked\":%d,\"nacked\":%d,\"queued\":%u,\"returned\":{\"code\":%u,\"text\":", queued_acked, queued_nacked,
       message_count(conn, 1, queue), return_code);
  emit_string(return_text, strlen(return_text));
  emit("}}");
  amqp_bytes_free(queue);
}

static void scenario_rpc(amqp_connection_state_t conn) {
  /* One thread, two channels: 1 is the server, 2 the client; deliveries say which. */
  char rpc_queue[256];
  snprintf(rpc_queue, sizeof rpc_queue, "%s.rpc", prefix);
  open_channel(conn, 1);
  amqp_queue_declare(conn, 1, amqp_cstring_bytes(rpc_queue), 0, 0, 1, 0, amqp_empty_table);
  check_reply(amqp_get_rpc_reply(conn), "declaring the RPC queue");
  amqp_basic_consume(conn, 1, amqp_cstring_bytes(rpc_queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  check_reply(amqp_get_rpc_reply(conn), "consuming requests");
  open_channel(conn, 2);
  amqp_bytes_t reply_queue = exclusive_queue(conn, 2);
  amqp_basic_consume(conn, 2, reply_queue, amqp_empty_bytes, 0, 1, 0, amqp_empty_table);
  check_reply(amqp_get_rpc_reply(conn), "consuming replies");
  for (int i = 1; i <= 3; i++) {
    char body[16], correlation[8];
    snprintf(body, sizeof body, "PING %d", i);
    snprintf(correlation, sizeof correlation, "c%d", i);
    amqp_basic_properties_t props;
    props._flags = AMQP_BASIC_REPLY_TO_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG;
    props.reply_to = reply_queue;
    props.correlation_id = amqp_cstring_bytes(correlation);
    publish(conn, 2, "", amqp_cstring_bytes(rpc_queue), 0, &props, body);
  }
  char replies[3][64];
  int answered = 0;
  while (answered < 3) {
    amqp_envelope_t envelope;
    if (!next_delivery(conn, &envelope, 5000000)) die("timed out waiting for RPC traffic");
    amqp_basic_properties_t *p = &envelope.message.properties;
    if (envelope.channel == 1) {
      /* Server side: answer on reply_to, echoing correlation_id. */
      char reply_body[32];
      snprintf(reply_body, sizeof reply_body, "PONG %.*s", (int)envelope.message.body.len - 5,
               (char *)envelope.message.body.bytes + 5);
      amqp_basic_properties_t reply;
      reply._flags = AMQP_BASIC_CORRELATION_ID_FLAG;
      reply.correlation_id = p->correlation_id;
      publish(conn, 1, "", p->reply_to, 0, &reply, reply_body);
      check_status(amqp_basic_ack(conn, 1, envelope.delivery_tag, 0), "acking the request");
    } else {
      /* Client side: file the reply under its correlation id (c1..c3). */
      int slot = ((char *)p->correlation_id.bytes)[1] - '1';
      if (p->correlation_id.len != 2 || slot < 0 || slot > 2) die("unexpected correlation id");
      snprintf(replies[slot], sizeof replies[slot], "%.*s", (int)envelope.message.body.len,
               (char *)envelope.message.body.bytes);
      answered++;
    }
    amqp_destroy_envelope(&envelope);
  }
  emit("{\"replies\":[");
  for (int i = 0; i < 3; i++) {
    emit("%s{\"correlation_id\":\"c%d\",\"body\":", i ? "," : "", i + 1);
    emit_string(replies[i], strlen(replies[i]));
    emit("}");
  }
  emit("]}");
  amqp_bytes_free(reply_queue);
}

static void scenario_error_404(amqp_connection_state_t conn) {
  char missing[256];
  snprintf(missing, sizeof missing, "%s.missing", prefix);
  open_channel(conn, 1);
  amqp_exchange_declare(conn, 1, amqp_cstring_bytes(missing), amqp_cstring_bytes("direct"), 1, 0, 0, 0,
                        amqp_empty_table);
  amqp_rpc_reply_t reply = amqp_get_rpc_reply(conn);
  if (reply.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION || reply.reply.id != AMQP_CHANNEL_CLOSE_METHOD) {
    check_reply(reply, "passive exchange declare");
    die("passive declare of a missing exchange succeeded");
  }
  amqp_channel_close_t *close = reply.reply.decoded;
  emit("{\"code\":%u,\"text\":", close->reply_code);
  emit_bytes(close->reply_text);
  /* rabbitmq-c leaves the channel.close-ok to the application. */
  amqp_channel_close_ok_t close_ok;
  check_status(amqp_send_method(conn, 1, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok), "sending channel.close-ok");
  open_channel(conn, 2);
  amqp_bytes_free(exclusive_queue(conn, 2));
  emit(",\"recovered\":true}");
}

int main(int argc, char **argv) {
  if (argc != 4) die("usage: %s <scenario> <amqp-url> <name-prefix>", argv[0]);
  prefix = argv[3];
  static const struct {
    const char *name;
    void (*run)(amqp_connection_state_t);
  } scenarios[] = {
      {"connect", scenario_connect},       {"declare-bind", scenario_declare_bind}, {"properties", scenario_properties},
      {"prefetch", scenario_prefetch},     {"confirms", scenario_confirms},         {"rpc", scenario_rpc},
      {"error-404", scenario_error_404},
  };
  for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
    if (strcmp(argv[1], scenarios[i].name) != 0) continue;
    amqp_connection_state_t conn = open_connection(argv[2]);
    scenarios[i].run(conn);
    close_connection(conn);
    printf("RESULT %.*s\n", (int)out_len, out);
    return 0;
  }
  die("unknown scenario %s", argv[1]);
}
