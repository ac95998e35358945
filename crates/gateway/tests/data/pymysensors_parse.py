"""Decode MySensors lines with pymysensors, an independent implementation, for the Rust cross-check.

Usage: pymysensors_parse.py <lines.txt> <firmware.hex>
Prints one JSON document on stdout. Exits 3 if pymysensors is not installed.
"""

import json
import sys
from types import SimpleNamespace

try:
    from mysensors import Message, const_24
    from mysensors.gateway_mqtt import BaseMQTTGateway
    from mysensors.ota import fw_hex_to_int, load_fw, prepare_fw
except ImportError as exc:
    print(f"pymysensors missing: {exc}", file=sys.stderr)
    sys.exit(3)

MQTT_PREFIX = "mygateway1-out"
STREAM_WORDS = {0: 5, 1: 4, 2: 3, 3: 3}


def table(enum):
    """Every name pymysensors knows (aliases included) with its code, and each code's own name."""
    return {
        "names": {name: int(member) for name, member in enum.__members__.items()},
        "canonical": {str(int(member)): member.name for member in enum},
    }


def decode(line):
    try:
        msg = Message(line)
    except Exception as exc:  # pymysensors raises ValueError or TypeError on bad lines
        return {"line": line, "ok": False, "error": repr(exc)}
    result = {
        "line": line,
        "ok": True,
        "node_id": msg.node_id,
        "child_id": msg.child_id,
        "command": msg.type,
        "ack": msg.ack,
        "sub_type": msg.sub_type,
        "payload": msg.payload,
        "encoded": msg.encode(),
    }
    # MQTT: what pymysensors would publish, and how it reads that back. It takes the ack flag from
    # the MQTT QoS rather than the topic, so the QoS given is the frame's ack.
    suffix, body, _qos = BaseMQTTGateway.parse_message_to_mqtt(None, line)
    topic = MQTT_PREFIX + suffix
    transport = SimpleNamespace(in_prefix=MQTT_PREFIX)
    gateway = SimpleNamespace(tasks=SimpleNamespace(transport=transport))
    back = BaseMQTTGateway.parse_mqtt_to_message(gateway, topic, body, msg.ack)
    result.update({"mqtt_topic": topic, "mqtt_payload": body, "mqtt_line": back})
    words = STREAM_WORDS.get(msg.sub_type) if msg.type == 4 else None
    if words is not None:
        result["fw_words"] = list(fw_hex_to_int(msg.payload[: 4 * words], words))
        result["fw_data"] = msg.payload[4 * words :].upper()
    return result


def firmware(path):
    fware = prepare_fw(load_fw(path))
    aligned = prepare_fw(b"\x00" * 128)
    return {
        "blocks": fware["blocks"],
        "crc": fware["crc"],
        "data_hex": fware["data"].hex().upper(),
        "aligned_128_blocks": aligned["blocks"],
        "aligned_128_crc": aligned["crc"],
    }


def main():
    lines_path, hex_path = sys.argv[1], sys.argv[2]
    with open(lines_path, encoding="utf-8") as handle:
        lines = [
            raw.rstrip("\n")
            for raw in handle
            if raw.strip() and not raw.startswith("#")
        ]
    print(
        json.dumps(
            {
                "tables": {
                    "command": table(const_24.MessageType),
                    "presentation": table(const_24.Presentation),
                    "set_req": table(const_24.SetReq),
                    "internal": table(const_24.Internal),
                    "stream": table(const_24.Stream),
                },
                "lines": [decode(line) for line in lines],
                "firmware": firmware(hex_path),
            }
        )
    )


if __name__ == "__main__":
    main()
