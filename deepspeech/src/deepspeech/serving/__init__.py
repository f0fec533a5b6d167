"""Batch Dispatch serving (Deep Speech 2 §7): an HTTP server that batches concurrent requests for one model.

* :mod:`.audio`: the wire contract (16 kHz mono 16-bit WAV) and the 4xx errors for anything else;
* :mod:`.dispatcher`: the worker thread that gathers requests into batches (max batch, max wait);
* :mod:`.httpd`: the stdlib HTTP server around it (``start_server`` returns a handle with ``close()``);
* :mod:`.server`: the ``deepspeech-serve`` command line;
* :mod:`.loadtest`: the bounded batched-vs-unbatched comparison (``python -m deepspeech.loadtest``).
"""

from deepspeech.serving.audio import AudioLimits, RequestError, decode_wav
from deepspeech.serving.dispatcher import BatchDispatcher, Transcript
from deepspeech.serving.httpd import ServeConfig, ServerHandle, start_server

__all__ = [
    "AudioLimits",
    "BatchDispatcher",
    "RequestError",
    "ServeConfig",
    "ServerHandle",
    "Transcript",
    "decode_wav",
    "start_server",
]
