"""Request bodies of the publishing calls, read within bounds: JSON objects and NDJSON lines."""

from pulp_hugging_face.upload_protocol import UploadError

MAX_JSON = 8 * 1024 * 1024
CHUNK = 1 << 20


async def json_body(request, limit=MAX_JSON):
    """The body's bytes, or the Hub's 413 past `limit` (never read past it)."""
    if request.content_length is not None and request.content_length > limit:
        raise UploadError(f"The request body is over {limit} bytes.", 413)
    body = bytearray()
    async for chunk in request.content.iter_chunked(CHUNK):
        body += chunk
        if len(body) > limit:
            raise UploadError(f"The request body is over {limit} bytes.", 413)
    return bytes(body)


async def ndjson_lines(stream, longest):
    """The non-empty lines of an NDJSON body, each at most `longest` bytes (else a 413)."""
    pending = bytearray()
    async for chunk in stream.iter_chunked(CHUNK):
        pending += chunk
        if b"\n" in chunk:
            *lines, rest = pending.split(b"\n")
            pending = bytearray(rest)
            for line in lines:
                if line.strip():
                    yield bytes(line).strip()
        if len(pending) > longest:
            raise UploadError(f"A commit line is over {longest} bytes.", 413)
    if pending.strip():
        yield bytes(pending).strip()
