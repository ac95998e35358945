"""A simulated ESPHome device for the end-to-end test of the real binary (tests/esphome.rs).

It speaks the plaintext native API with the messages aioesphomeapi generates from ESPHome's
api.proto (an implementation independent of Switchyard's hand-written ones): hello, password
login, device info, an entity list (sensor, switch, RGB light, lock, climate with two target
temperatures, fan/swing modes and presets, a lock that wants a code, a fan with presets),
states, pings, and
commands that change its state. It prints one JSON line per event on stdout for the test:
{"event": "listening", "port": N}, {"event": "connected"}, and {"event": "command", "type":
"SwitchCommandRequest", "fields": {...}} for every command it decoded.

usage: esphome_device.py PORT PASSWORD   (PORT 0 picks a free port)
"""

import asyncio
import json
import sys

from aioesphomeapi import api_pb2 as pb
from aioesphomeapi.core import MESSAGE_TYPE_TO_PROTO

ID = {cls: i for i, cls in MESSAGE_TYPE_TO_PROTO.items()}
PASSWORD = sys.argv[2] if len(sys.argv) > 2 else ""


def emit(**event):
    print(json.dumps(event), flush=True)


class Device:
    def __init__(self):
        self.temperature = 21.5
        self.relay = False
        self.lamp = {"state": False, "brightness": 0.5, "rgb": (1.0, 1.0, 1.0)}
        self.lock = pb.LOCK_STATE_LOCKED
        self.safe = pb.LOCK_STATE_LOCKED
        self.vent_preset = ""
        self.ac = {"mode": pb.CLIMATE_MODE_HEAT_COOL, "low": 19.0, "high": 24.0,
                   "fan_mode": pb.CLIMATE_FAN_LOW, "custom_fan_mode": "",
                   "swing_mode": pb.CLIMATE_SWING_OFF, "preset": pb.CLIMATE_PRESET_NONE,
                   "custom_preset": ""}

    def entities(self):
        return [
            pb.ListEntitiesSensorResponse(object_id="temp", key=1, name="Temperature",
                                          unit_of_measurement="°C", accuracy_decimals=1),
            pb.ListEntitiesSwitchResponse(object_id="relay", key=2, name="Relay"),
            pb.ListEntitiesLightResponse(object_id="lamp", key=3, name="Lamp",
                                         supported_color_modes=[pb.COLOR_MODE_RGB]),
            pb.ListEntitiesLockResponse(object_id="front", key=4, name="Front Door"),
            pb.ListEntitiesClimateResponse(
                object_id="ac", key=5, name="AC",
                supported_modes=[pb.CLIMATE_MODE_OFF, pb.CLIMATE_MODE_HEAT_COOL],
                visual_min_temperature=16.0, visual_max_temperature=30.0,
                supports_two_point_target_temperature=True,
                supported_fan_modes=[pb.CLIMATE_FAN_AUTO, pb.CLIMATE_FAN_LOW],
                supported_custom_fan_modes=["Turbo"],
                supported_swing_modes=[pb.CLIMATE_SWING_OFF, pb.CLIMATE_SWING_VERTICAL],
                supported_presets=[pb.CLIMATE_PRESET_NONE, pb.CLIMATE_PRESET_ECO],
                supported_custom_presets=["Night"]),
            pb.ListEntitiesLockResponse(object_id="safe", key=6, name="Safe", requires_code=True,
                                        code_format=r"^\d{4}$"),
            pb.ListEntitiesFanResponse(object_id="vent", key=7, name="Vent",
                                       supported_preset_modes=["Sleep", "Breeze"]),
        ]

    def states(self):
        r, g, b = self.lamp["rgb"]
        return [
            pb.SensorStateResponse(key=1, state=self.temperature),
            pb.SwitchStateResponse(key=2, state=self.relay),
            pb.LightStateResponse(key=3, state=self.lamp["state"],
                                  brightness=self.lamp["brightness"], red=r, green=g, blue=b,
                                  color_mode=pb.COLOR_MODE_RGB),
            pb.LockStateResponse(key=4, state=self.lock),
            pb.ClimateStateResponse(
                key=5, mode=self.ac["mode"], target_temperature_low=self.ac["low"],
                target_temperature_high=self.ac["high"], fan_mode=self.ac["fan_mode"],
                custom_fan_mode=self.ac["custom_fan_mode"], swing_mode=self.ac["swing_mode"],
                preset=self.ac["preset"], custom_preset=self.ac["custom_preset"]),
            pb.LockStateResponse(key=6, state=self.safe),
            pb.FanStateResponse(key=7, state=True, preset_mode=self.vent_preset),
        ]

    def command(self, msg):
        """Applies a command; returns the states to send back."""
        fields = {f.name: v for f, v in msg.ListFields()}
        emit(event="command", type=type(msg).__name__, fields=fields)
        if isinstance(msg, pb.SwitchCommandRequest):
            self.relay = msg.state
        elif isinstance(msg, pb.LightCommandRequest):
            if msg.has_state:
                self.lamp["state"] = msg.state
            if msg.has_brightness:
                self.lamp["brightness"] = msg.brightness
            if msg.has_rgb:
                self.lamp["rgb"] = (msg.red, msg.green, msg.blue)
        elif isinstance(msg, pb.ClimateCommandRequest):
            ac = self.ac
            if msg.has_mode:
                ac["mode"] = msg.mode
            if msg.has_target_temperature_low:
                ac["low"] = msg.target_temperature_low
            if msg.has_target_temperature_high:
                ac["high"] = msg.target_temperature_high
            if msg.has_fan_mode:
                ac["fan_mode"], ac["custom_fan_mode"] = msg.fan_mode, ""
            if msg.has_custom_fan_mode:
                ac["custom_fan_mode"] = msg.custom_fan_mode
            if msg.has_swing_mode:
                ac["swing_mode"] = msg.swing_mode
            if msg.has_preset:
                ac["preset"], ac["custom_preset"] = msg.preset, ""
            if msg.has_custom_preset:
                ac["custom_preset"] = msg.custom_preset
        elif isinstance(msg, pb.FanCommandRequest):
            if msg.has_preset_mode:
                self.vent_preset = msg.preset_mode
        elif isinstance(msg, pb.LockCommandRequest) and msg.key == 6:
            # The safe obeys only with its code.
            if msg.has_code and msg.code == "1234":
                self.safe = {pb.LOCK_LOCK: pb.LOCK_STATE_LOCKED,
                             pb.LOCK_UNLOCK: pb.LOCK_STATE_UNLOCKED}.get(msg.command, self.safe)
        elif isinstance(msg, pb.LockCommandRequest):
            self.lock = {pb.LOCK_LOCK: pb.LOCK_STATE_LOCKED,
                         pb.LOCK_UNLOCK: pb.LOCK_STATE_UNLOCKED}.get(msg.command, self.lock)
        return self.states()


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


async def read_varint(reader):
    v, shift = 0, 0
    while True:
        b = (await reader.readexactly(1))[0]
        v |= (b & 0x7F) << shift
        if not b & 0x80:
            return v
        shift += 7


def frame(msg):
    payload = msg.SerializeToString()
    return b"\x00" + varint(len(payload)) + varint(ID[type(msg)]) + payload


async def serve(device, reader, writer):
    emit(event="connected")

    def send(*msgs):
        writer.write(b"".join(frame(m) for m in msgs))

    try:
        while True:
            if (await reader.readexactly(1)) != b"\x00":
                return
            length = await read_varint(reader)
            kind = await read_varint(reader)
            msg = MESSAGE_TYPE_TO_PROTO[kind]()
            msg.ParseFromString(await reader.readexactly(length))
            if isinstance(msg, pb.HelloRequest):
                send(pb.HelloResponse(api_version_major=1, api_version_minor=10,
                                      server_info="sim", name="kitchen"))
            elif isinstance(msg, pb.AuthenticationRequest):
                send(pb.AuthenticationResponse(invalid_password=msg.password != PASSWORD))
            elif isinstance(msg, pb.DeviceInfoRequest):
                send(pb.DeviceInfoResponse(uses_password=bool(PASSWORD), name="kitchen",
                                           friendly_name="Kitchen Sim", esphome_version="2025.1.0",
                                           mac_address="AA:BB:CC:00:11:22"))
            elif isinstance(msg, pb.ListEntitiesRequest):
                send(*device.entities(), pb.ListEntitiesDoneResponse())
            elif isinstance(msg, pb.SubscribeStatesRequest):
                send(*device.states())
            elif isinstance(msg, pb.PingRequest):
                send(pb.PingResponse())
            elif isinstance(msg, pb.DisconnectRequest):
                send(pb.DisconnectResponse())
                return
            elif type(msg).__name__.endswith("CommandRequest"):
                send(*device.command(msg))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    device = Device()
    server = await asyncio.start_server(lambda r, w: serve(device, r, w), "127.0.0.1",
                                        int(sys.argv[1]), reuse_address=True)
    emit(event="listening", port=server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
