"""A TCP proxy that makes a local server look far away: every chunk is held `delay` seconds
in each direction (in order, without limiting throughput), and the proxy can be paused, as a
network that stalls. Runs on a thread of its own (`DelayProxy`), or alone:
`python -m bench.proxy LISTEN_PORT TARGET_HOST:TARGET_PORT DELAY_MS`."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from concurrent.futures import Future


class DelayProxy:
    """Forwards 127.0.0.1:`port` to `target`, each way `delay` seconds later."""

    def __init__(self, target: tuple[str, int], delay: float = 0.0, port: int = 0) -> None:
        self.target = target
        self.delay = delay
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._flowing: asyncio.Event | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- on the caller's thread -----------------------------------------------------------

    def start(self) -> int:
        """Start forwarding on a thread of its own; returns the port it listens on."""
        started: Future[int] = Future()
        self._thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self._thread.start()
        self.port = started.result(timeout=10)
        return self.port

    def pause(self) -> None:
        """Hold everything that arrives until `resume()`: connections stay open, silent."""
        self._call(lambda: self._event().clear())

    def resume(self) -> None:
        self._call(lambda: self._event().set())

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    def __enter__(self) -> DelayProxy:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _call(self, action: object) -> None:
        assert self._loop is not None, "start() the proxy first"
        self._loop.call_soon_threadsafe(action)  # type: ignore[arg-type]

    def _event(self) -> asyncio.Event:
        assert self._flowing is not None
        return self._flowing

    # -- on the proxy's own loop ----------------------------------------------------------

    def _run(self, started: Future[int]) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            port = loop.run_until_complete(self._listen())
            started.set_result(port)
            loop.run_forever()
        except BaseException as error:  # pragma: no cover - reported to start()
            if not started.done():
                started.set_exception(error)
        finally:
            for task in list(self._tasks):
                task.cancel()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.sleep(0))
            if self._server is not None:
                self._server.close()
            loop.close()

    async def _listen(self) -> int:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def _spawn(self, coroutine: object) -> None:
        task = asyncio.ensure_future(coroutine)  # type: ignore[call-overload]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        try:
            server_in, server_out = await asyncio.open_connection(*self.target)
        except OSError:
            client_out.close()
            return
        self._spawn(self._pipe(client_in, server_out))
        self._spawn(self._pipe(server_in, client_out))

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        held: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await held.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self._event().wait()
                if not chunk:
                    sink.close()
                    return
                sink.write(chunk)
                await sink.drain()

        delivering = asyncio.ensure_future(deliver())
        try:
            while True:
                chunk = await source.read(65536)
                held.put_nowait((loop.time() + self.delay, chunk))
                if not chunk:
                    break
            await delivering
        except (OSError, asyncio.CancelledError):
            delivering.cancel()
            sink.close()


def main() -> None:
    listen, target, delay_ms = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    host, _, port = target.rpartition(":")
    proxy = DelayProxy((host, int(port)), delay_ms / 1000, port=listen)
    proxy.start()
    print(f"forwarding 127.0.0.1:{proxy.port} to {target}, {delay_ms:g} ms each way", flush=True)
    assert proxy._thread is not None
    proxy._thread.join()


if __name__ == "__main__":
    main()
