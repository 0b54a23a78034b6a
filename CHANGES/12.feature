Hub requests skip pulpcore-content's per-request authentication (a thread hop, a domain query
and DRF's authenticators): the domain comes from each process's memory, and the full
authentication runs only for distributions with a content guard. A HEAD on a cached file went
from 1.5 ms to 0.2 ms (p50, same machine and load).
Small stored files (up to 256 KiB) are kept in each content-app process's memory once read
(64 MiB per process, least recently used first) and answered without opening them again: 64
clients on a warm small file went from about 2,900 to 15,000 requests/s on the same machine.
A cold file costs one database query before its download starts (was four), and the re-check
after taking the single-flight lock is skipped when no request on the host led that download
before: the first byte of a cold GET now comes 16 ms after the Hub direct's (steady state).
What upstream says of a commit-pinned file that is not stored yet is remembered per process
(forgotten with a remote change), so a Hub client's HEAD before its GET costs one upstream
round trip instead of two.
A GET of a file not stored yet with no HEAD before it (curl, a browser, a script) learns the
commit, ETag and size from upstream's answer to the GET itself (the Hub's redirect to its CDN,
or its 200) instead of asking a HEAD first: one upstream round trip less before the first byte.
An upstream that answers such a GET with a body of unknown length is still asked its size first.
A file served again while its pull-through add is on its way no longer asks for the repository on
every request, requests of one process asking for the same distribution or stored file after a
change share one lookup, a HEAD (or a small file whose bytes are in memory) no longer stats the
stored file, and the Hub path's parse is remembered per path: under 64 clients one content-app
process answers 12x the warm HEADs and 18x the warm GETs of a small file it did before this work
(py-spy profiles in docs/admin/guides/performance.md).
Stored files over 256 KiB are sent with sendfile from one descriptor shared by the requests for
the same file, instead of aiohttp's FileResponse opening, checking and closing the file in a
thread per request (three thread hops and about 70 futex calls per request under load): 64
clients on a warm 4 MiB file went from 0.61-0.71x to 0.84-1.0x nginx's requests/s on the same
machine. A descriptor is closed when its last request is done; a file removed while open is
reopened by the next request. Range and conditional requests keep FileResponse.
