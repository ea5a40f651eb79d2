"""Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

No websocket, no driver binary, no npm package: Chromium reads NUL-terminated JSON commands on
file descriptor 3 and writes replies and events on descriptor 4. Used by the web page's tests and
by ``bench/bench_web.py``::

    with Chromium(fake_video="call.y4m") as browser:
        page = browser.open("http://127.0.0.1:8000/")
        page.evaluate("1 + 1")              # -> 2 (awaits promises)
        page.screenshot("page.png")

Chromium always starts with the flags this machine needs (headless, no sandbox as root, no GPU,
no background networking) and a fresh ``--user-data-dir`` that is removed on close.
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_INSTALL = "apt-get install -y chromium chromium-driver"
BASE_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars")


def write_y4m(path: str, frames, fps: int = 30) -> str:
    """Write BGR uint8 frames (equal sizes, even width and height) as a YUV4MPEG2 4:2:0 file,
    the format Chromium's fake camera plays (``--use-file-for-fake-video-capture``)."""
    import cv2
    frames = list(frames)
    h, w = frames[0].shape[:2]
    if w % 2 or h % 2:
        raise ValueError(f"y4m 4:2:0 needs an even frame size; got {w}x{h}")
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{int(fps)}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            if frame.shape[:2] != (h, w):
                raise ValueError(f"all frames must be {w}x{h}; got {frame.shape[1]}x{frame.shape[0]}")
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


class BrowserError(RuntimeError):
    """Chromium is missing, died, or a DevTools command or page script failed."""


def find_chromium() -> str | None:
    """Path of a Chromium binary (``$CHROMIUM`` first), or None."""
    env = os.environ.get("CHROMIUM")
    if env:
        return env if os.path.isfile(env) else None
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_version(binary: str) -> str:
    """``Chromium 156.0...`` as the binary prints it."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "unknown"


class Page:
    """One tab (a DevTools session attached to a target)."""

    def __init__(self, browser: "Chromium", session_id: str, target_id: str):
        self.browser, self.session_id, self.target_id = browser, session_id, target_id
        self.console: list[str] = []      # console messages and uncaught exceptions, in order

    def send(self, method: str, params: dict | None = None, timeout: float = 60) -> dict:
        return self.browser.send(method, params, self.session_id, timeout)

    def evaluate(self, expression: str, timeout: float = 60):
        """The JSON value of ``expression`` in the page (a promise is awaited)."""
        res = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                             "returnByValue": True}, timeout)
        if "exceptionDetails" in res:
            d = res["exceptionDetails"]
            text = d.get("exception", {}).get("description") or d.get("text")
            raise BrowserError(f"page script failed: {text}")
        return res["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60, poll: float = 0.1):
        """Poll ``expression`` until it is truthy; returns its value."""
        end = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression, timeout)
            if value:
                return value
            if time.monotonic() > end:
                raise BrowserError(f"timed out after {timeout:.0f} s waiting for {expression!r}; "
                                   f"console: {self.console[-5:]}")
            time.sleep(poll)

    def screenshot(self, path: str, width: int = 1280, height: int = 800) -> str:
        """Save a PNG of the viewport (``width`` x ``height``)."""
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                         "deviceScaleFactor": 1, "mobile": False})
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target_id})


class Chromium:
    """A headless Chromium process and its DevTools pipe.

    Args:
        binary: Chromium's path (default: ``find_chromium()``).
        fake_video: A .y4m/.mjpeg file played as the camera (the fake media device, permission
            granted without a prompt); None: no fake camera flags at all.
        deny_camera: With no ``fake_video``: fake devices, but the camera permission is denied.
        extra_flags: More command-line flags.

    Raises:
        BrowserError: no Chromium binary was found (the message says how to install it).
    """

    def __init__(self, binary: str | None = None, fake_video: str | None = None,
                 deny_camera: bool = False, extra_flags: tuple[str, ...] = ()):
        binary = binary or find_chromium()
        if binary is None:
            raise BrowserError(f"no Chromium found (looked for {', '.join(CHROMIUM_NAMES)} on "
                               f"PATH and $CHROMIUM): install it with `{CHROMIUM_INSTALL}`")
        self.binary = binary
        self.profile = tempfile.mkdtemp(prefix="humanseg-chromium-")
        flags = [*BASE_FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe",
                 "--window-size=1280,800", *extra_flags]
        if fake_video is not None:
            flags += ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                      f"--use-file-for-fake-video-capture={os.path.abspath(fake_video)}"]
        elif deny_camera:
            flags += ["--use-fake-device-for-media-stream", "--use-fake-ui-deny-for-media-stream"]
        # Chromium reads commands on its fd 3 and writes replies on its fd 4
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def child_fds():  # the pipe ends at 3 and 4 (moved above 10 first: they may be 3 or 4)
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_chrome_r, from_chrome_w)]
            for target, fd in zip((3, 4), high):
                os.dup2(fd, target)   # dup2 leaves the copy inheritable
                os.close(fd)

        # close_fds=False: Python's own descriptors are close-on-exec anyway (PEP 446)
        self.proc = subprocess.Popen([binary, *flags, "about:blank"], close_fds=False,
                                     preexec_fn=child_fds, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._replies: dict[int, dict] = {}
        self._pages: dict[str, Page] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._stderr: list[str] = []
        threading.Thread(target=self._read_loop, daemon=True).start()
        threading.Thread(target=self._stderr_loop, daemon=True).start()
        self.version = self.send("Browser.getVersion")["product"]

    # -- the pipe
    def _stderr_loop(self) -> None:
        for line in iter(self.proc.stderr.readline, b""):
            self._stderr.append(line.decode("utf-8", "replace").rstrip())
            del self._stderr[:-50]

    def _read_loop(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                self._dispatch(json.loads(raw))

    def _dispatch(self, msg: dict) -> None:
        if "id" in msg:
            with self._cond:
                self._replies[msg["id"]] = msg
                self._cond.notify_all()
            return
        page = self._pages.get(msg.get("sessionId"))
        if page is None:
            return
        params = msg.get("params", {})
        if msg.get("method") == "Runtime.consoleAPICalled":
            page.console.append(" ".join(str(a.get("value", a.get("description", "")))
                                         for a in params.get("args", [])))
        elif msg.get("method") == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            page.console.append("uncaught: " + str(d.get("exception", {}).get("description")
                                                   or d.get("text")))

    def send(self, method: str, params: dict | None = None, session_id: str | None = None,
             timeout: float = 60) -> dict:
        """Send one DevTools command; returns its ``result`` (BrowserError on an error reply)."""
        with self._cond:
            self._next_id += 1
            msg_id = self._next_id
        msg = {"id": msg_id, "method": method, "params": params or {}}
        if session_id:
            msg["sessionId"] = session_id
        try:
            os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        except OSError as e:
            raise BrowserError(f"Chromium is gone ({e}); its last output: "
                               f"{self._stderr[-5:]}") from None
        end = time.monotonic() + timeout
        with self._cond:
            while msg_id not in self._replies:
                left = end - time.monotonic()
                if self._closed or left <= 0:
                    why = "exited" if self._closed else f"did not answer in {timeout:.0f} s"
                    raise BrowserError(f"Chromium {why} ({method}); its last output: "
                                       f"{self._stderr[-5:]}")
                self._cond.wait(left)
            reply = self._replies.pop(msg_id)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    # -- tabs
    def open(self, url: str, timeout: float = 60) -> Page:
        """A new tab at ``url``, loaded (the load event fired), with console capture on."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target,
                                                      "flatten": True})["sessionId"]
        page = Page(self, session, target)
        self._pages[session] = page
        page.send("Runtime.enable")
        page.send("Page.enable")
        page.send("Page.navigate", {"url": url}, timeout)
        page.wait_for("document.readyState === 'complete'", timeout)
        return page

    def close(self) -> None:
        """End Chromium and remove its profile folder."""
        if self.proc.poll() is None:
            try:
                self.send("Browser.close", timeout=10)
                self.proc.wait(10)
            except (BrowserError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(10)
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
