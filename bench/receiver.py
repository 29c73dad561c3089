"""A fast local webhook receiver for the hooks case: answers every POST with 204 over
keep-alive connections and counts them; `GET /count` answers the count. No framework, so
that the receiver is never what limits the rate.

    python -m bench.receiver PORT"""

from __future__ import annotations

import asyncio
import sys

received = 0


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    global received
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            if head.startswith(b"GET /count"):
                body = str(received).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            else:
                received += 1
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(serve_connection, "127.0.0.1", port, backlog=1024)
    print("receiving", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
