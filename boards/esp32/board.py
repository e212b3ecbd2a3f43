"""Board glue for ESP32-family boards (ESP32, ESP32-S3, ESP32-C3 ...): the
contract firmware/boardbase.py documents, on ESP32 hardware.

Sensors: "mcu_temperature" (esp32.mcu_temperature() on S2/S3/C3/C6, else
esp32.raw_temperature() converted from Fahrenheit on the original ESP32)
and "adc" (machine.ADC on spec["pin"], read_u16, "attenuation" "0dB" /
"2.5dB" / "6dB" / "11dB"). The app adds "counter", "status", "uptime".
"""

import binascii
import gc
import time

import esp32
import machine

import boardbase

_ATTENUATIONS = {"0dB": 0, "2.5dB": 1, "6dB": 2, "11dB": 3}


class Board(boardbase.Board):
    """An ESP32 running MicroPython; see the module docstring."""

    def __init__(self, profile, log=None):
        super().__init__(profile, log)
        self._wlan = None
        self._watchdog = None
        self._http = None

    def sleep(self, mode, seconds):
        milliseconds = int(seconds * 1000)
        if milliseconds <= 0:
            return
        if mode == "deep":
            # The chip resets on waking: main.py runs again, the journal is on flash.
            self._wifi().active(False)
            machine.deepsleep(milliseconds)
        elif mode == "light":
            machine.lightsleep(milliseconds)
        else:
            time.sleep_ms(milliseconds)

    def sync_time(self, host):
        import ntptime
        ntptime.host = host
        ntptime.settime()
        return True

    def wifi_connect(self, ssid, password, timeout):
        wlan = self._wifi()
        wlan.active(True)
        if wlan.isconnected():
            return True
        if self._http is not None:
            # A connection kept from before the WiFi dropped is dead.
            self._http.close()
        wlan.connect(ssid, password)
        deadline = time.ticks_add(time.ticks_ms(), int(timeout * 1000))
        while not wlan.isconnected():
            if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
                # Stop the driver's own retries: the app backs off instead.
                wlan.disconnect()
                return False
            if self._watchdog is not None:
                self._watchdog.feed()
            time.sleep_ms(250)
        return True

    def wifi_connected(self):
        return self._wlan is not None and self._wlan.isconnected()

    def http(self, verify=True):
        """uonep.http (verified TLS, one kept connection, bounded answers);
        verify: True (the CA set in /lib/uonep/ca.der), a CA file path, or False."""
        from uonep.http import HTTP
        if self._http is not None:
            self._http.close()
        self._http = HTTP(verify)
        return self._http

    def sensor(self, spec):
        kind = spec["kind"]
        if kind == "mcu_temperature":
            return _temperature()
        if kind == "adc":
            adc = machine.ADC(machine.Pin(spec["pin"]))
            adc.atten(_ATTENUATIONS[spec.get("attenuation", "11dB")])
            return adc.read_u16
        raise ValueError("no sensor of kind %r on this board" % kind)

    def watchdog(self, timeout):
        # Once started it cannot be stopped: the app feeds it every cycle.
        self._watchdog = machine.WDT(timeout=int(timeout * 1000))
        return self._watchdog

    def unique_id(self):
        return binascii.hexlify(machine.unique_id()).decode()

    def memory(self):
        """The Python heap grows on demand from the IDF heap (MicroPython
        1.21 and later), and gc.mem_free() adds the largest free block of
        the IDF heap it could take ("max new split" in micropython.mem_info(),
        see esp32.idf_heap_info in MicroPython's docs): told apart here. That
        block is shared with WiFi and TLS, so it is no promise."""
        grow = max([region[2] for region in esp32.idf_heap_info(esp32.HEAP_DATA)] or [0])
        return max(0, gc.mem_free() - grow), grow

    def _wifi(self):
        if self._wlan is None:
            import network
            self._wlan = network.WLAN(network.STA_IF)
        return self._wlan


def _temperature():
    modern = getattr(esp32, "mcu_temperature", None)
    if modern is not None:
        return lambda: float(modern())
    # The original ESP32's sensor reports Fahrenheit (and is not calibrated).
    return lambda: round((esp32.raw_temperature() - 32) / 1.8, 1)
