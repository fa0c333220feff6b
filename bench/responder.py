#!/usr/bin/env python3
"""bench/responder.py: "the peer" of `make bench`, the responder a user would write in Python
(Josev's own stack is Python): paho-mqtt + jsonschema. Every request is parsed and checked against
the project's own schemas (envelope + <name>.request.json), the answer is built, checked against
envelope + <name>.response.json, serialized compactly and published on cs/josev with QoS 1, as
cs-companiond does. Sends READY=1 to $NOTIFY_SOCKET once subscribed.

    responder.py HOST PORT SCHEMA_DIR DATA_FILE
"""
import json
import os
import socket
import sys

import jsonschema
import paho.mqtt.client as mqtt

NAME = "cs_status_and_limits"


def validator(schema_dir, file_name):
    with open(os.path.join(schema_dir, file_name), encoding="utf-8") as handle:
        schema = json.load(handle)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def notify_ready():
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    if path.startswith("@"):
        path = "\0" + path[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"READY=1", path)


def main():
    if len(sys.argv) != 5:
        print("usage: responder.py HOST PORT SCHEMA_DIR DATA_FILE", file=sys.stderr)
        return 2
    host, port, schema_dir, data_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    envelope = validator(schema_dir, "envelope.json")
    request_schema = validator(schema_dir, f"{NAME}.request.json")
    response_schema = validator(schema_dir, f"{NAME}.response.json")
    with open(data_file, encoding="utf-8") as handle:
        data = json.load(handle)
    counts = {"answered": 0, "refused": 0}

    def on_connect(client, userdata, flags, reason, properties=None):
        # TCP_NODELAY as the daemon and the C responder have it (paho leaves Nagle on).
        client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.subscribe("josev/cs", qos=1)

    def on_subscribe(client, userdata, mid, *rest):
        notify_ready()

    def on_message(client, userdata, message):
        try:
            request = json.loads(message.payload)
            envelope.validate(request)
            if request.get("name") != NAME or request.get("type") != "request":
                counts["refused"] += 1
                return
            request_schema.validate(request)
            answer = {"id": request["id"], "name": NAME, "type": "response", "data": data}
            envelope.validate(answer)
            response_schema.validate(answer)
        except (ValueError, jsonschema.ValidationError) as error:
            counts["refused"] += 1
            print(f"responder.py: refused: {error}", file=sys.stderr)
            return
        client.publish("cs/josev", json.dumps(answer, separators=(",", ":")), qos=1)
        counts["answered"] += 1

    client_id = f"bench-py-responder-{os.getpid()}"
    if hasattr(mqtt, "CallbackAPIVersion"):  # paho-mqtt 2.x
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    else:  # paho-mqtt 1.x (Debian 12)
        client = mqtt.Client(client_id=client_id)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(host, port, keepalive=60)
    try:
        client.loop_forever()
    except KeyboardInterrupt:
        pass
    print(f"responder.py: answered {counts['answered']}, refused {counts['refused']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
