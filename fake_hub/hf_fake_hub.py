"""A fake Hugging Face Hub for the tests, faithful to shared/design/hf-protocol.md.

Two aiohttp servers on loopback: the Hub (resolve, metadata API) and a "CDN" on another port that
serves LFS files the Hub redirects to. Regular files are named by their git blob sha1, LFS files
by their sha256; some files carry Xet hints a proxy must strip. Repos may be gated or private,
revisions include branches, tags and `refs/pr/N`, tree listings are paginated with absolute
`Link: rel="next"` URLs. Every request is recorded so tests can assert what reached upstream.
"""

import asyncio
import functools
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from aiohttp import web

URL_PREFIXES = {"dataset": "datasets", "space": "spaces", "kernel": "kernels"}
PREFIX_TYPES = {v: k for k, v in URL_PREFIXES.items()}
API_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space", "kernels": "kernel"}
API_ENDPOINTS = {"revision", "tree", "paths-info", "refs", "commits", "treesize"}


def lfs_pointer(sha256, size):
    """The git-lfs pointer file that stands in the git tree for an LFS file."""
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()
    )


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class HubFile:
    data: bytes
    lfs: bool = False
    xet: bool = False
    served: bytes | None = None  # what a broken upstream sends instead of `data`
    endless: bool = False  # a hostile upstream: the body never ends (chunked, no length)

    @property
    def body(self):
        return self.data if self.served is None else self.served

    @functools.cached_property
    def etag(self):
        return hashlib.sha256(self.data).hexdigest() if self.lfs else git_blob_sha1(self.data)


@dataclass
class HubRepo:
    repo_type: str
    repo_id: str
    commits: dict = field(default_factory=dict)  # sha -> {path: HubFile}
    refs: dict = field(default_factory=dict)  # branch/tag/refs/pr/N -> sha
    tags: set = field(default_factory=set)
    gated: bool = False
    private: bool = False
    extra_listing: list = field(default_factory=list)  # raw entries a hostile tree listing adds

    def commit(self, files, ref="main"):
        """Add a commit with `files` ({path: bytes | HubFile}) and point `ref` at it."""
        tree = {p: f if isinstance(f, HubFile) else HubFile(f) for p, f in files.items()}
        seed = json.dumps([self.repo_id, ref, len(self.commits), sorted(tree)]).encode()
        sha = hashlib.sha1(seed).hexdigest()
        self.commits[sha] = tree
        if ref:
            self.refs[ref] = sha
        return sha

    def resolve(self, revision):
        if revision in self.commits:
            return revision
        return self.refs.get(revision)


class FakeHub:
    """The fake Hub and its CDN, running in a background thread."""

    def __init__(self, page_size=50):
        self.repos = {}
        self.valid_tokens = {"hf_valid_token"}
        self.gated_access = {}  # token -> set of (type, repo_id) it unlocked
        self.page_size = page_size
        self.requests = []
        self.cdn_requests = []
        self.fail_with = None  # e.g. 503 to simulate an outage
        self.delay = 0  # seconds to stall every Hub answer (a hanging upstream)
        self.cdn_rate = None  # bytes per second the CDN sends at (None: as fast as it can)
        self.redirect_loop = None  # "hub" or "cdn": every answer redirects to itself
        self._loop = None
        self._runners = []

    # -- set-up -----------------------------------------------------------------------------
    def add_repo(self, repo_id, repo_type="model", **kwargs):
        repo = HubRepo(repo_type, repo_id, **kwargs)
        self.repos[(repo_type, repo_id)] = repo
        return repo

    def start(self):
        ready = threading.Event()

        def run():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start_servers())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    async def _start_servers(self):
        hub_app = web.Application()
        hub_app.router.add_route("*", "/{path:.*}", self.handle_hub)
        cdn_app = web.Application()
        cdn_app.router.add_route("GET", "/{path:.*}", self.handle_cdn)
        ports = []
        for application in (hub_app, cdn_app):
            runner = web.AppRunner(application, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self._runners.append(runner)
            ports.append(runner.addresses[0][1])
        self.port, self.cdn_port = ports
        self.url = f"http://127.0.0.1:{self.port}"
        self.cdn_url = f"http://127.0.0.1:{self.cdn_port}"

    def stop(self):
        async def cleanup():
            for runner in self._runners:
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def reset_log(self):
        self.requests.clear()
        self.cdn_requests.clear()

    def body_fetches(self, filename=None):
        """File bodies sent: resolve GETs answered with a body by the Hub, and CDN GETs."""
        hub_gets = [
            r
            for r in self.requests
            if r["method"] == "GET" and "/resolve/" in r["path"] and r.get("status") != 302
        ]
        hits = hub_gets + [r for r in self.cdn_requests if r["method"] == "GET"]
        if filename:
            hits = [r for r in hits if r.get("file") == filename]
        return hits

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def error(status, code, message, **headers):
        headers = {"X-Error-Message": message, **headers}
        if code:
            headers["X-Error-Code"] = code
        return web.json_response({"error": message}, status=status, headers=headers)

    def _token(self, request):
        auth = request.headers.get("Authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else None

    def _access(self, request, repo_type, repo_id):
        """The repo, or the error the Hub would answer."""
        repo = self.repos.get((repo_type, repo_id))
        token = self._token(request)
        if token is not None and token not in self.valid_tokens:
            return None, self.error(401, None, "Invalid credentials in Authorization header")
        if repo is None or (repo.private and token is None):
            return None, self.error(
                401, "RepoNotFound", f"Repository Not Found for url: {request.url}."
            )
        if repo.gated and (repo_type, repo_id) not in self.gated_access.get(token, set()):
            return None, self.error(
                401 if token is None else 403,
                "GatedRepo",
                f"Access to model {repo_id} is restricted. You must have access to it.",
            )
        return repo, None

    @staticmethod
    def _split_repo(segments, marker_ok):
        if len(segments) >= 2 and marker_ok(segments[1]):
            return segments[0], segments[1:]
        if len(segments) >= 3 and marker_ok(segments[2]):
            return "/".join(segments[:2]), segments[2:]
        return None, None

    # -- the Hub ----------------------------------------------------------------------------
    async def handle_hub(self, request):
        raw = request.rel_url.raw_path
        record = {
            "method": request.method,
            "path": raw,
            "query": dict(request.query),
            "authorization": request.headers.get("Authorization"),
            "file": unquote(raw.rsplit("/", 1)[-1]),
        }
        self.requests.append(record)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_with:
            return self.error(self.fail_with, None, "Service unavailable")
        if self.redirect_loop == "hub":
            return web.Response(status=302, headers={"Location": str(request.rel_url)})
        response = await self._answer_hub(request, raw)
        record["status"] = response.status
        return response

    async def _answer_hub(self, request, raw):
        segments = [unquote(s) for s in raw.lstrip("/").split("/")]
        if segments[0] == "api":
            return await self.handle_api(request, segments[1:])
        repo_type = PREFIX_TYPES.get(segments[0], "model")
        if repo_type != "model":
            segments = segments[1:]
        repo_id, rest = self._split_repo(segments, lambda s: s == "resolve")
        if repo_id is None or len(rest) < 3:
            return self.error(404, None, "Not found")
        return await self.resolve(request, repo_type, repo_id, rest[1], "/".join(rest[2:]))

    async def resolve(self, request, repo_type, repo_id, revision, filename):
        repo, denied = self._access(request, repo_type, repo_id)
        if denied:
            return denied
        sha = repo.resolve(revision)
        if sha is None:
            return self.error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        entry = repo.commits[sha].get(filename)
        if entry is None:
            return self.error(
                404,
                "EntryNotFound",
                f"{filename} does not exist on {revision}",
                **{"X-Repo-Commit": sha},
            )
        headers = {"X-Repo-Commit": sha, "Accept-Ranges": "bytes"}
        if entry.xet:
            headers["X-Xet-Hash"] = hashlib.sha256(b"xet" + entry.data).hexdigest()
            headers["Link"] = (
                f'<{self.url}/api/{repo_type}s/{repo_id}/xet-read-token/{sha}>; rel="xet-auth", '
                f'<{self.cdn_url}/xet-cas>; rel="xet-reconstruction-info"'
            )
        if entry.lfs:
            headers.update(
                {
                    "X-Linked-Etag": f'"{entry.etag}"',
                    "X-Linked-Size": str(len(entry.data)),
                    "ETag": f'"{entry.etag}"',
                    "Location": f"{self.cdn_url}/repos/{entry.etag}?X-Amz-Signature=fake",
                }
            )
            return web.Response(status=302, headers=headers)
        headers["ETag"] = f'"{entry.etag}"'
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(entry.data))
            return web.Response(status=200, headers=headers)
        if entry.endless:
            return await self._endless(request, headers)
        return self._body(request, entry.body, headers)

    @staticmethod
    def _body(request, data, headers):
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(data))
            return web.Response(status=200, headers=headers)
        try:
            rng = request.http_range
            start, stop = rng.start, rng.stop
        except ValueError:
            return web.Response(status=416, headers={"Content-Range": f"bytes */{len(data)}"})
        if start is None and stop is None:
            return web.Response(body=data, headers=headers)
        if start is not None and start < 0:  # suffix range: bytes=-N
            start, stop = max(0, len(data) + start), len(data)
        start = start or 0
        stop = min(stop if stop is not None else len(data), len(data))
        if start >= len(data):
            return web.Response(status=416, headers={"Content-Range": f"bytes */{len(data)}"})
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{len(data)}"
        return web.Response(status=206, body=data[start:stop], headers=headers)

    # -- the CDN ----------------------------------------------------------------------------
    async def handle_cdn(self, request):
        sha = request.match_info["path"].rsplit("/", 1)[-1]
        self.cdn_requests.append(
            {
                "method": request.method,
                "path": request.rel_url.raw_path,
                "authorization": request.headers.get("Authorization"),
                "sha256": sha,
                "file": None,
            }
        )
        if self.redirect_loop == "cdn":
            return web.Response(status=307, headers={"Location": str(request.rel_url)})
        for repo in self.repos.values():
            for tree in repo.commits.values():
                for path, entry in tree.items():
                    if entry.lfs and entry.etag == sha:
                        self.cdn_requests[-1]["file"] = path.rsplit("/", 1)[-1]
                        headers = {"ETag": f'"cdn-{sha[:16]}"', "Accept-Ranges": "bytes"}
                        if entry.endless and request.method == "GET":
                            return await self._endless(request, headers)
                        if request.method == "GET" and "Range" not in request.headers:
                            return await self._streamed(request, entry.body, headers)
                        return self._body(request, entry.body, headers)
        return web.Response(status=403, text="AccessDenied")

    @staticmethod
    async def _endless(request, headers):
        """A body that never ends, until the client hangs up."""
        response = web.StreamResponse(headers=headers)
        response.enable_chunked_encoding()
        await response.prepare(request)
        block = b"\0" * (1 << 16)
        try:
            while True:
                await response.write(block)
        except (ConnectionError, RuntimeError):
            return response

    async def _streamed(self, request, data, headers):
        """Send `data` as a CDN does: a megabyte at a time as the connection takes it (not
        copied into one buffer first), at about `cdn_rate` bytes per second if set."""
        response = web.StreamResponse(headers=headers)
        response.content_length = len(data)
        await response.prepare(request)
        step, view = 1 << 20, memoryview(data)
        started = time.monotonic()
        for offset in range(0, len(data), step):
            await response.write(view[offset : offset + step])
            if self.cdn_rate:
                ahead = (offset + step) / self.cdn_rate - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
        await response.write_eof()
        return response

    # -- the metadata API -------------------------------------------------------------------
    async def handle_api(self, request, segments):
        if not segments or segments[0] not in API_TYPES:
            return self.error(404, None, "Not found")
        repo_type = API_TYPES[segments[0]]
        rest = segments[1:]
        if len(rest) in (1, 2) and not any(s in API_ENDPOINTS for s in rest[1:]):
            repo_id, tail = "/".join(rest), []
        else:
            repo_id, tail = self._split_repo(rest, lambda s: s in API_ENDPOINTS)
            if repo_id is None:
                return self.error(404, None, "Not found")
        repo, denied = self._access(request, repo_type, repo_id)
        if denied:
            return denied
        if not tail or tail[0] == "revision":
            revision = tail[1] if len(tail) > 1 else "main"
            sha = repo.resolve(revision)
            if sha is None:
                return self.error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            return web.json_response(self._info(repo, sha))
        if tail[0] == "refs":
            return web.json_response(self._refs(repo))
        if tail[0] in ("tree", "paths-info"):
            sha = repo.resolve(tail[1]) if len(tail) > 1 else None
            if sha is None:
                return self.error(404, "RevisionNotFound", f"Invalid rev id: {tail[1:]}")
            if tail[0] == "paths-info":
                form = await request.post()
                paths = form.getall("paths", [])
                entries = [e for e in self._entries(repo, sha, "", True) if e["path"] in paths]
                return web.json_response(entries)
            return self._tree(request, repo, sha, "/".join(tail[2:]))
        return self.error(404, None, "Not found")

    def _info(self, repo, sha):
        files = sorted(repo.commits[sha])
        return {
            "_id": hashlib.md5(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "sha": sha,
            "private": repo.private,
            "gated": "auto" if repo.gated else False,
            "disabled": False,
            "tags": [],
            "siblings": [{"rfilename": f} for f in files],
            "lastModified": "2026-01-01T00:00:00.000Z",
        }

    def _refs(self, repo):
        def entry(name):
            return {"name": name, "ref": f"refs/heads/{name}", "targetCommit": repo.refs[name]}

        names = [n for n in repo.refs if not n.startswith("refs/")]
        return {
            "branches": [entry(n) for n in names if n not in repo.tags],
            "tags": [
                {"name": n, "ref": f"refs/tags/{n}", "targetCommit": repo.refs[n]}
                for n in names
                if n in repo.tags
            ],
            "converts": [],
        }

    def _entries(self, repo, sha, base, recursive):
        tree = repo.commits[sha]
        prefix = f"{base}/" if base else ""
        entries, dirs = [], set()
        for path in sorted(tree):
            if not path.startswith(prefix):
                continue
            parts = path[len(prefix) :].split("/")
            # A recursive listing names every folder on the way; a plain one the first only.
            for depth in range(1, len(parts) if recursive else min(len(parts), 2)):
                folder = prefix + "/".join(parts[:depth])
                if folder not in dirs:
                    dirs.add(folder)
                    entries.append(
                        {"type": "directory", "oid": "0" * 40, "size": 0, "path": folder}
                    )
            if len(parts) > 1 and not recursive:
                continue
            entry = tree[path]
            # An LFS file's git blob is its pointer file: the tree names the pointer's blob.
            blob = lfs_pointer(entry.etag, len(entry.data)) if entry.lfs else entry.data
            item = {
                "type": "file",
                "oid": git_blob_sha1(blob),
                "size": len(entry.data),
                "path": path,
            }
            if entry.lfs:
                item["lfs"] = {"oid": entry.etag, "size": len(entry.data), "pointerSize": len(blob)}
            if entry.xet:
                item["xetHash"] = hashlib.sha256(b"xet" + entry.data).hexdigest()
            entries.append(item)
        return sorted(entries, key=lambda e: e["path"])

    def _tree(self, request, repo, sha, base):
        recursive = request.query.get("recursive") in ("true", "True", "1")
        entries = self._entries(repo, sha, base, recursive)
        if not base:
            entries += repo.extra_listing
        if base and not entries:
            return self.error(
                404, "EntryNotFound", f"{base} does not exist", **{"X-Repo-Commit": sha}
            )
        cursor = int(request.query.get("cursor", "0"))
        page = entries[cursor : cursor + self.page_size]
        headers = {}
        if cursor + self.page_size < len(entries):
            query = dict(request.query, cursor=str(cursor + self.page_size))
            qs = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
            headers["Link"] = f'<{self.url}{request.rel_url.raw_path}?{qs}>; rel="next"'
        return web.json_response(page, headers=headers)
