# Freeze uonep and the device app into a MicroPython firmware image: frozen
# bytecode runs from flash and costs no heap to load. From a MicroPython
# checkout (ports/esp32, after the usual ESP-IDF setup):
#   make BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/uonep/firmware/manifest.py
# main.py, board.json and secrets.json stay on the board's file system
# (tools/deploy, or mpremote cp): they are per device. So does the CA set
# uonep.http checks servers against, a data file: copy firmware/uonep/ca.der
# to the board (mpremote cp firmware/uonep/ca.der :ca.der) and set
# "verify": "/ca.der" in the profile or the secrets.
include("$(PORT_DIR)/boards/manifest.py")
package("uonep")
module("app.py")
module("appconfig.py")
module("boardbase.py")
module("bringup.py")
module("configfiles.py")
module("connection.py")
module("launch.py")
module("profilecheck.py")
module("report.py")
module("sampling.py")
module("scheduler.py")
module("settings.py")
module("startup.py")
module("update.py")
module("boot_select.py")
# The board glue of the ESP32 family; a board of your own: change the folder.
module("board.py", base_path="../boards/esp32")
