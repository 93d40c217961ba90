#!/usr/bin/python3
"""A worker for the native-front tests: tests/integration/node/pyworker.py (protocol v1,
python3-msgpack only) plus the event `hdrs`, which answers one chunk per header of its invoke
as the node forwarded it, `name=<value in hex>`, then close. The lab's nodes run it as the app
`hdr`, so a test sees what a client's headers became on their way through sluiced."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "node"))
sys.dont_write_bytecode = True
import pyworker  # noqa: E402


class Worker(pyworker.Worker):
    def handle(self, frame):
        ch, mid, args = frame[0], frame[1], frame[2]
        if ch != 1 and ch not in self.sessions and mid == 0 and args and args[0] == b"hdrs":
            self.sessions[ch] = s = pyworker.Session("hdrs", [])
            s.done = True
            for h in (frame[3] if len(frame) > 3 else []):
                if isinstance(h, list) and len(h) == 3:
                    name, value = h[1], h[2]
                    name = name if isinstance(name, bytes) else ("#%d" % name).encode()
                    self.reply(ch, 0, name + b"=" + value.hex().encode())
                else:
                    self.reply(ch, 0, b"index=%d" % h)
            self.reply(ch, 2)
            return False
        return super().handle(frame)


if __name__ == "__main__":
    sys.exit(Worker().run())
