"""PyScript worker entry of the phase helper: the second core's half of each Griffin-Lim run
(:mod:`intellimixer.cores`). The page starts it once the app is ready and quiet (where the page
is cross-origin isolated and has two cores or more) and sends it ``imx_phase_start``; it then
makes the shared buffer, hands it to the page (which passes it to the Python worker) and
serves runs for as long as the page lives: this worker does nothing else.
"""
from polyscript import xworker
from pyodide.ffi import to_js

import js
from intellimixer import cores


def _on_message(event):
    data = event.data
    if data is None or not getattr(data, "imx_phase_start", False):
        return
    sab = js.SharedArrayBuffer.new(cores.BYTES)
    channel = cores.Channel.of(sab)

    def ready():
        xworker.postMessage(to_js({"imx_phase_sab": sab}, dict_converter=js.Object.fromEntries))

    cores.serve(channel, ready)  # (never returns: this worker blocks in Atomics.wait between runs)


xworker.onmessage = _on_message
