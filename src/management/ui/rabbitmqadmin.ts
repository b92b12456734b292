/**
 * The admin script served at /cli/rabbitmqadmin: a Python 3 command-line client with the command
 * syntax of RabbitMQ's rabbitmqadmin (list, show, declare, delete, close, purge, publish, get,
 * export, import), written for Warren's management API. RabbitMQ's own rabbitmqadmin works
 * against Warren too; this one is served so that `curl …/cli/rabbitmqadmin` works as with RabbitMQ.
 * Kept as a raw string so the package needs no data files at run time.
 */
export const RABBITMQADMIN_PY = String.raw`#!/usr/bin/env python3
# rabbitmqadmin-compatible command-line client for Warren's management HTTP API.
# Same command syntax as RabbitMQ's rabbitmqadmin for the everyday commands:
#   list <objects> [<column> ...], show overview, declare/delete <object> key=value ...,
#   close connection, purge queue, publish, get, export <file>, import <file>.
# Written for Warren (MIT licensed); needs only the Python 3 standard library.
import base64
import json
import optparse
import sys
import urllib.error
import urllib.parse
import urllib.request

VERSION = "warren"

LISTABLE = {
    "connections": ["name", "user", "channels"],
    "channels": ["name", "user"],
    "consumers": ["queue.name", "channel_details.name", "consumer_tag", "ack_required", "prefetch_count"],
    "exchanges": ["name", "type"],
    "queues": ["name", "messages"],
    "bindings": ["source", "destination", "routing_key"],
    "users": ["name", "tags"],
    "vhosts": ["name", "messages"],
    "permissions": ["vhost", "user", "configure", "write", "read"],
    "topic_permissions": ["vhost", "user", "exchange", "write", "read"],
    "nodes": ["name", "type", "mem_used"],
    "parameters": ["vhost", "component", "name", "value"],
    "policies": ["vhost", "name", "pattern", "definition"],
    "operator_policies": ["vhost", "name", "pattern", "definition"],
    "vhost_limits": ["vhost", "value"],
}
# Objects listed per vhost when --vhost is given explicitly.
VHOST_SCOPED = {"exchanges", "queues", "bindings", "consumers", "policies", "operator_policies"}
API_NAME = {"topic_permissions": "topic-permissions", "operator_policies": "operator-policies", "vhost_limits": "vhost-limits"}

# declare/delete: path template, mandatory keys, optional keys with defaults, JSON-typed keys.
DECLARABLE = {
    "exchange": {"path": "exchanges/{vhost}/{name}", "mandatory": ["name", "type"],
                 "optional": {"auto_delete": "false", "durable": "true", "internal": "false", "arguments": {}}},
    "queue": {"path": "queues/{vhost}/{name}", "mandatory": ["name"],
              "optional": {"auto_delete": "false", "durable": "true", "arguments": {}}},
    "binding": {"path": "bindings/{vhost}/e/{source}/{destination_char}/{destination}", "mandatory": ["source", "destination"],
                "optional": {"destination_type": "queue", "routing_key": "", "arguments": {}}, "method": "POST"},
    "vhost": {"path": "vhosts/{name}", "mandatory": ["name"], "optional": {"tracing": "false", "description": ""}},
    "user": {"path": "users/{name}", "mandatory": ["name"], "optional": {"password": None, "password_hash": None, "tags": ""}},
    "permission": {"path": "permissions/{vhost}/{user}", "mandatory": ["vhost", "user", "configure", "write", "read"], "optional": {}},
    "topic_permission": {"path": "topic-permissions/{vhost}/{user}", "mandatory": ["vhost", "user", "exchange", "write", "read"], "optional": {}},
}
DELETABLE = {
    "exchange": {"path": "exchanges/{vhost}/{name}", "mandatory": ["name"]},
    "queue": {"path": "queues/{vhost}/{name}", "mandatory": ["name"]},
    "binding": {"path": "bindings/{vhost}/e/{source}/{destination_char}/{destination}/{properties_key}",
                "mandatory": ["source", "destination_type", "destination", "properties_key"]},
    "vhost": {"path": "vhosts/{name}", "mandatory": ["name"]},
    "user": {"path": "users/{name}", "mandatory": ["name"]},
    "permission": {"path": "permissions/{vhost}/{user}", "mandatory": ["vhost", "user"]},
    "topic_permission": {"path": "topic-permissions/{vhost}/{user}", "mandatory": ["vhost", "user"]},
}
JSON_KEYS = {"arguments", "properties", "definition", "value"}
BOOL_KEYS = {"auto_delete", "durable", "internal", "tracing"}

USAGE = """Usage
=====
  rabbitmqadmin [options] list <objects> [<column> ...]
  rabbitmqadmin [options] show overview [<column> ...]
  rabbitmqadmin [options] declare <object> <key>=<value> ...
  rabbitmqadmin [options] delete <object> <key>=<value> ...
  rabbitmqadmin [options] close connection name=<name>
  rabbitmqadmin [options] purge queue name=<name>
  rabbitmqadmin [options] publish routing_key=<key> [exchange=<x>] [payload=<text>] [payload_encoding=string|base64] [properties=<json>]
  rabbitmqadmin [options] get queue=<name> [count=1] [ackmode=ack_requeue_true] [encoding=auto]
  rabbitmqadmin [options] export <file>
  rabbitmqadmin [options] import <file>

Objects to list: {listable}
Objects to declare/delete: {declarable}
Formats (-f): table, tsv, raw_json, pretty_json, long, kvp""".format(
    listable=", ".join(sorted(LISTABLE)), declarable=", ".join(sorted(DECLARABLE)))


def die(message):
    sys.stderr.write("*** {0}\n".format(message))
    sys.exit(1)


def parse_options(argv):
    parser = optparse.OptionParser(usage=USAGE, add_help_option=False)
    parser.add_option("-H", "--host", dest="hostname", default="localhost")
    parser.add_option("-P", "--port", dest="port", default="15672")
    parser.add_option("--path-prefix", dest="path_prefix", default="")
    parser.add_option("-U", "--base-uri", dest="base_uri", default=None)
    parser.add_option("-V", "--vhost", dest="vhost", default=None)
    parser.add_option("-u", "--username", dest="username", default="guest")
    parser.add_option("-p", "--password", dest="password", default="guest")
    parser.add_option("-f", "--format", dest="format", default="table")
    parser.add_option("-d", "--depth", dest="depth", default="1")
    parser.add_option("-q", "--quiet", action="store_false", dest="verbose", default=True)
    parser.add_option("-s", "--ssl", action="store_true", dest="ssl", default=False)
    parser.add_option("--help", action="store_true", dest="help", default=False)
    parser.add_option("--version", action="store_true", dest="version", default=False)
    return parser.parse_args(argv)


class Client:
    def __init__(self, options):
        if options.base_uri:
            self.base = options.base_uri.rstrip("/")
        else:
            scheme = "https" if options.ssl else "http"
            self.base = "{0}://{1}:{2}{3}".format(scheme, options.hostname, options.port, options.path_prefix.rstrip("/"))
        token = "{0}:{1}".format(options.username, options.password).encode("utf-8")
        self.auth = "Basic " + base64.b64encode(token).decode("ascii")
        self.host = options.hostname

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.base + "/api/" + path, data=data, method=method)
        req.add_header("Authorization", self.auth)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as res:
                text = res.read().decode("utf-8")
                return json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            if e.code == 401:
                die("Access refused: /api/" + path)
            if e.code == 404:
                die("Not found: /api/" + path)
            try:
                reason = json.loads(text).get("reason", text)
            except ValueError:
                reason = text
            die("Error: {0} {1}".format(e.code, reason))
        except urllib.error.URLError as e:
            die("Could not connect: {0}".format(e.reason))

    def get(self, path):
        return self.request("GET", path)


def quote(s):
    return urllib.parse.quote(s, safe="")


def parse_pairs(args):
    pairs = {}
    for arg in args:
        if "=" not in arg:
            die("Argument '{0}' should be of the form key=value".format(arg))
        key, value = arg.split("=", 1)
        if key in JSON_KEYS:
            try:
                value = json.loads(value)
            except ValueError:
                die("Cannot parse {0} as JSON: {1}".format(key, value))
        pairs[key] = value
    return pairs


def typed(key, value):
    if key in BOOL_KEYS and isinstance(value, str):
        if value.lower() not in ("true", "false"):
            die("{0} must be true or false, not '{1}'".format(key, value))
        return value.lower() == "true"
    return value


def column_value(item, column):
    value = item
    for part in column.split("."):
        if not isinstance(value, dict) or part not in value:
            return ""
        value = value[part]
    return value


def render(value):
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def output(items, columns, fmt):
    if fmt == "raw_json":
        print(json.dumps(items))
        return
    if fmt == "pretty_json":
        print(json.dumps(items, indent=2, sort_keys=True))
        return
    if not columns:
        keys = []
        for item in items:
            for key in item:
                if key not in keys and not isinstance(item[key], dict):
                    keys.append(key)
        columns = keys
    rows = [[render(column_value(item, c)) for c in columns] for item in items]
    if fmt == "tsv":
        print("\t".join(columns))
        for row in rows:
            print("\t".join(row))
    elif fmt == "long":
        for row in rows:
            print("-" * 80)
            for column, cell in zip(columns, row):
                print("{0}: {1}".format(column.rjust(max(len(c) for c in columns)), cell))
        if rows:
            print("-" * 80)
    elif fmt == "kvp":
        for row in rows:
            print(" ".join('{0}="{1}"'.format(c, v) for c, v in zip(columns, row)))
    elif fmt == "table":
        if not rows:
            print("No items")
            return
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
        line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        print(line)
        print("|" + "|".join(" " + c.center(w) + " " for c, w in zip(columns, widths)) + "|")
        print(line)
        for row in rows:
            print("|" + "|".join(" " + v.ljust(w) + " " for v, w in zip(row, widths)) + "|")
        print(line)
    else:
        die("Unknown format '{0}'".format(fmt))


def do_list(client, options, args):
    if not args or args[0] not in LISTABLE:
        die("Usage: list <objects> [<column> ...] where objects is one of: " + ", ".join(sorted(LISTABLE)))
    what = args[0]
    columns = args[1:] or LISTABLE[what]
    path = API_NAME.get(what, what)
    if options.vhost is not None and what in VHOST_SCOPED:
        path += "/" + quote(options.vhost)
    output(client.get(path) or [], columns, options.format)


def do_show(client, options, args):
    if not args or args[0] != "overview":
        die("Usage: show overview [<column> ...]")
    columns = args[1:] or ["rabbitmq_version", "cluster_name", "queue_totals.messages", "object_totals.queues"]
    output([client.get("overview")], columns, options.format)


def build_path(template, pairs, vhost):
    values = dict(pairs)
    values["vhost"] = vhost
    dest_type = values.get("destination_type", "queue")
    if dest_type not in ("queue", "exchange"):
        die("destination_type must be queue or exchange")
    values["destination_char"] = "q" if dest_type == "queue" else "e"
    quoted = {k: quote(v) if isinstance(v, str) else v for k, v in values.items()}
    quoted["destination_char"] = values["destination_char"]
    return template.format(**quoted)


def do_declare(client, options, args):
    if not args or args[0] not in DECLARABLE:
        die("Usage: declare <object> key=value ... where object is one of: " + ", ".join(sorted(DECLARABLE)))
    what = args[0]
    spec = DECLARABLE[what]
    pairs = parse_pairs(args[1:])
    missing = [k for k in spec["mandatory"] if k not in pairs]
    if what == "user" and "password" not in pairs and "password_hash" not in pairs:
        missing.append("password")
    if missing:
        die("mandatory argument(s) {0} required".format(", ".join('"' + m + '"' for m in missing)))
    body = {}
    for key, default in spec["optional"].items():
        if key in pairs:
            body[key] = typed(key, pairs[key])
        elif default is not None:
            body[key] = typed(key, default)
    for key in spec["mandatory"]:
        if key not in ("name", "vhost", "user", "source", "destination"):
            body[key] = pairs[key]
    for key in pairs:
        if key not in body and key not in ("name", "vhost", "user", "source", "destination", "destination_type"):
            body[key] = typed(key, pairs[key])
    body.pop("destination_type", None)
    vhost = options.vhost if options.vhost is not None else pairs.get("vhost", "/")
    client.request(spec.get("method", "PUT"), build_path(spec["path"], pairs, vhost), body)
    if options.verbose:
        print("{0} declared".format(what))


def do_delete(client, options, args):
    if not args or args[0] not in DELETABLE:
        die("Usage: delete <object> key=value ... where object is one of: " + ", ".join(sorted(DELETABLE)))
    what = args[0]
    spec = DELETABLE[what]
    pairs = parse_pairs(args[1:])
    missing = [k for k in spec["mandatory"] if k not in pairs]
    if missing:
        die("mandatory argument(s) {0} required".format(", ".join('"' + m + '"' for m in missing)))
    vhost = options.vhost if options.vhost is not None else pairs.get("vhost", "/")
    path = build_path(spec["path"], pairs, vhost)
    if what == "topic_permission" and "exchange" in pairs:
        path += "?exchange=" + quote(pairs["exchange"])
    client.request("DELETE", path)
    if options.verbose:
        print("{0} deleted".format(what))


def do_close(client, options, args):
    pairs = parse_pairs(args[1:])
    if not args or args[0] != "connection" or "name" not in pairs:
        die("Usage: close connection name=<name>")
    client.request("DELETE", "connections/" + quote(pairs["name"]))
    if options.verbose:
        print("connection closed")


def do_purge(client, options, args):
    pairs = parse_pairs(args[1:])
    if not args or args[0] != "queue" or "name" not in pairs:
        die("Usage: purge queue name=<name>")
    vhost = options.vhost if options.vhost is not None else "/"
    client.request("DELETE", "queues/{0}/{1}/contents".format(quote(vhost), quote(pairs["name"])))
    if options.verbose:
        print("queue purged")


def do_publish(client, options, args):
    pairs = parse_pairs(args)
    if "routing_key" not in pairs:
        die('mandatory argument "routing_key" required')
    vhost = options.vhost if options.vhost is not None else "/"
    exchange = pairs.get("exchange", "amq.default") or "amq.default"
    if "payload" in pairs:
        payload = pairs["payload"]
    else:
        payload = sys.stdin.read()
    body = {
        "routing_key": pairs["routing_key"],
        "payload": payload,
        "payload_encoding": pairs.get("payload_encoding", "string"),
        "properties": pairs.get("properties", {}),
    }
    result = client.request("POST", "exchanges/{0}/{1}/publish".format(quote(vhost), quote(exchange)), body)
    if options.verbose:
        print("Message published" if result and result.get("routed") else "Message published but NOT routed")


def do_get(client, options, args):
    pairs = parse_pairs(args)
    if "queue" not in pairs:
        die('mandatory argument "queue" required')
    vhost = options.vhost if options.vhost is not None else "/"
    body = {
        "count": int(pairs.get("count", "1")),
        "ackmode": pairs.get("ackmode", "ack_requeue_true"),
        "encoding": pairs.get("encoding", "auto"),
    }
    messages = client.request("POST", "queues/{0}/{1}/get".format(quote(vhost), quote(pairs["queue"])), body) or []
    columns = ["routing_key", "exchange", "message_count", "payload", "payload_bytes", "payload_encoding", "redelivered"]
    output(messages, columns, options.format)


def do_export(client, options, args):
    if len(args) != 1:
        die("Usage: export <file>")
    path = "definitions" if options.vhost is None else "definitions/" + quote(options.vhost)
    defs = client.get(path)
    with open(args[0], "w") as f:
        json.dump(defs, f, indent=2)
    if options.verbose:
        print('Exported definitions for {0} to "{1}"'.format(client.host, args[0]))


def do_import(client, options, args):
    if len(args) != 1:
        die("Usage: import <file>")
    with open(args[0]) as f:
        try:
            defs = json.load(f)
        except ValueError as e:
            die("{0} is not valid JSON: {1}".format(args[0], e))
    path = "definitions" if options.vhost is None else "definitions/" + quote(options.vhost)
    client.request("POST", path, defs)
    if options.verbose:
        print('Imported definitions for {0} from "{1}"'.format(client.host, args[0]))


COMMANDS = {
    "list": do_list, "show": do_show, "declare": do_declare, "delete": do_delete, "close": do_close,
    "purge": do_purge, "publish": do_publish, "get": do_get, "export": do_export, "import": do_import,
}


def main(argv):
    options, args = parse_options(argv)
    if options.version:
        print("rabbitmqadmin (Warren) " + VERSION)
        return
    if options.help or not args or args[0] == "help":
        print(USAGE)
        return
    command = COMMANDS.get(args[0])
    if command is None:
        die("Command '{0}' not recognised; run with --help".format(args[0]))
    command(Client(options), options, args[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
`;
