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
import tempfile
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from aiohttp import web

URL_PREFIXES = {"dataset": "datasets", "space": "spaces", "kernel": "kernels"}
PREFIX_TYPES = {v: k for k, v in URL_PREFIXES.items()}
API_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space", "kernels": "kernel"}
API_ENDPOINTS = {"revision", "tree", "paths-info", "refs", "commits", "treesize"}
XET_FILEINFO = "application/vnd.xet-fileinfo+json"
# What `?expand=` may name (huggingface_hub's Expand*Property_T); any other name is a 400.
EXPANDABLE = {
    "model": frozenset(
        "author baseModels cardData childrenModelCount config createdAt disabled downloads "
        "downloadsAllTime evalResults gated gguf inference inferenceProviderMapping lastModified "
        "library_name likes mask_token model-index pipeline_tag private resourceGroup safetensors "
        "sha siblings spaces tags transformersInfo trendingScore usedStorage widgetData "
        "gitalyUid".split()
    ),
    "dataset": frozenset(
        "author cardData citation createdAt description disabled downloads downloadsAllTime "
        "gated lastModified likes mainSize paperswithcode_id private resourceGroup sha siblings "
        "tags trendingScore usedStorage gitalyUid".split()
    ),
    "space": frozenset(
        "author cardData createdAt datasets disabled lastModified likes models private region "
        "resourceGroup runtime sdk sha siblings subdomain tags trendingScore usedStorage "
        "gitalyUid".split()
    ),
}
EXPANDABLE["kernel"] = EXPANDABLE["model"]


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

    @functools.cached_property
    def xet_hash(self):
        """The file's Xet hash, as the Hub gives it (computed by hf_xet, the reference client)."""
        import hf_xet

        with tempfile.NamedTemporaryFile() as file:
            file.write(self.data)
            file.flush()
            return hf_xet.hash_files([file.name])[0].hash


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
    parents: dict = field(default_factory=dict)  # sha -> the commit it was made on (or None)

    def commit(self, files, ref="main"):
        """Add a commit with `files` ({path: bytes | HubFile}) and point `ref` at it."""
        tree = {p: f if isinstance(f, HubFile) else HubFile(f) for p, f in files.items()}
        seed = json.dumps([self.repo_id, ref, len(self.commits), sorted(tree)]).encode()
        sha = hashlib.sha1(seed).hexdigest()
        self.commits[sha] = tree
        self.parents[sha] = self.refs.get(ref) if ref else None
        if ref:
            self.refs[ref] = sha
        return sha

    def resolve(self, revision):
        """The commit a revision names; `HEAD` is the default branch's head, as on the Hub."""
        if revision in self.commits:
            return revision
        if revision == "HEAD" and "HEAD" not in self.refs:
            revision = "main"
        return self.refs.get(revision)

    def last_commit(self, sha, path):
        """The Hub's `lastCommit` of a file: the oldest commit since which it is unchanged."""
        etag = self.commits[sha][path].etag
        while (parent := self.parents.get(sha)) and path in self.commits[parent]:
            if self.commits[parent][path].etag != etag:
                break
            sha = parent
        index = list(self.commits).index(sha)
        date = f"2026-01-01T00:{index // 60:02d}:{index % 60:02d}.000Z"
        return {"id": sha, "title": f"Commit {index}", "date": date}


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
            "range": request.headers.get("Range"),
            "accept": request.headers.get("Accept"),
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
        repo_id, rest = self._split_repo(segments, lambda s: s in ("resolve", "raw"))
        if repo_id is None or len(rest) < 3:
            return self.error(404, None, "Not found")
        found = self._entry(request, repo_type, repo_id, rest[1], "/".join(rest[2:]))
        if isinstance(found, web.Response):
            return found
        if rest[0] == "raw":
            return self.raw(request, *found)
        return await self.resolve(request, repo_type, repo_id, *found)

    def _entry(self, request, repo_type, repo_id, revision, filename):
        """(commit, entry) of a file at a revision, or the Hub's error answer."""
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
        return sha, entry

    def raw(self, request, sha, entry):
        """`/raw/`: the file as git holds it: a regular file as is, an LFS file's pointer."""
        blob = lfs_pointer(entry.etag, len(entry.data)) if entry.lfs else entry.body
        headers = {
            "X-Repo-Commit": sha,
            "ETag": f'"{git_blob_sha1(blob)}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "text/plain; charset=utf-8",
        }
        return self._body(request, blob, headers)

    async def resolve(self, request, repo_type, repo_id, sha, entry):
        headers = {"X-Repo-Commit": sha, "Accept-Ranges": "bytes"}
        if entry.xet:
            xet = {
                "hash": entry.xet_hash,
                "refreshUrl": f"{self.url}/api/{repo_type}s/{repo_id}/xet-read-token/{sha}",
            }
            xet["reconstructionUrl"] = f"{self.cdn_url}/v1/reconstructions/{xet['hash']}"
            headers["X-Xet-Hash"] = xet["hash"]
            headers["Link"] = (
                f'<{xet["refreshUrl"]}>; rel="xet-auth", '
                f'<{xet["reconstructionUrl"]}>; rel="xet-reconstruction-info"'
            )
            if XET_FILEINFO in request.headers.get("Accept", ""):
                return self._xet_fileinfo(request, entry, headers, xet)
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
    def _xet_fileinfo(request, entry, headers, xet):
        """What the Hub answers a client that asks a Xet file's resolve URL for
        `application/vnd.xet-fileinfo+json`: the file's Xet facts, no redirect, no bytes."""
        info = {**xet, "etag": entry.etag, "size": len(entry.data)}
        headers.update(
            {
                "Content-Type": XET_FILEINFO,
                "ETag": f'"{entry.etag}"',
                "X-Linked-Etag": f'"{entry.etag}"',
                "X-Linked-Size": str(len(entry.data)),
            }
        )
        body = json.dumps(info).encode()
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(body))
            return web.Response(status=200, headers=headers)
        return web.Response(status=200, body=body, headers=headers)

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
            return self._info_answer(request, repo, sha)
        if tail[0] == "refs":
            return web.json_response(self._refs(repo))
        if tail[0] in ("tree", "paths-info"):
            sha = repo.resolve(tail[1]) if len(tail) > 1 else None
            if sha is None:
                return self.error(404, "RevisionNotFound", f"Invalid rev id: {tail[1:]}")
            if tail[0] == "paths-info":
                return await self._paths_info(request, repo, sha)
            return self._tree(request, repo, sha, "/".join(tail[2:]))
        return self.error(404, None, "Not found")

    async def _paths_info(self, request, repo, sha):
        """`paths-info`: a JSON body (huggingface.js) or a form (huggingface_hub), both read."""
        if request.content_type == "application/json":
            try:
                body = await request.json()
                paths, expand = body.get("paths", []), bool(body.get("expand"))
            except (ValueError, AttributeError):
                return self.error(400, None, "Invalid JSON body")
        else:
            form = await request.post()
            paths, expand = form.getall("paths", []), form.get("expand", "") in ("true", "True")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            return self.error(400, None, '"paths" must be an array of strings')
        entries = self._entries(repo, sha, "", True, expand)
        return web.json_response([e for e in entries if e["path"] in paths])

    def _info(self, repo, sha):
        """The repo info the Hub answers with no `expand`, and the fields only `expand` adds."""
        files = sorted(repo.commits[sha])
        default = {
            "_id": hashlib.md5(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0] if "/" in repo.repo_id else None,
            "sha": sha,
            "private": repo.private,
            "gated": "auto" if repo.gated else False,
            "disabled": False,
            "downloads": 7,
            "likes": 3,
            "tags": [],
            "siblings": [{"rfilename": f} for f in files],
            "createdAt": "2025-06-01T00:00:00.000Z",
            "lastModified": "2026-01-01T00:00:00.000Z",
        }
        return default, {"downloadsAllTime": 70, "usedStorage": 1234}

    def _info_answer(self, request, repo, sha):
        """Repo info; with `expand=` (repeated) only `_id`, `id` and the fields named."""
        default, expand_only = self._info(repo, sha)
        wanted = request.query.getall("expand", []) + request.query.getall("expand[]", [])
        if not wanted:
            return web.json_response(default)
        unknown = sorted(set(wanted) - EXPANDABLE[repo.repo_type])
        if unknown:
            allowed = ", ".join(sorted(EXPANDABLE[repo.repo_type]))
            return self.error(400, None, f'"expand" must be one of [{allowed}], not {unknown}')
        every = {**default, **expand_only}
        chosen = {key: every[key] for key in wanted if key in every}
        return web.json_response({"_id": default["_id"], "id": default["id"], **chosen})

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

    def _entries(self, repo, sha, base, recursive, expand=False):
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
                item["xetHash"] = entry.xet_hash
            if expand:
                item["lastCommit"] = repo.last_commit(sha, path)
                item["securityFileStatus"] = {
                    "status": "safe",
                    "avScan": {"virusFound": False, "virusNames": None},
                    "pickleImportScan": {"highestSafetyLevel": "innocuous", "imports": []},
                }
            entries.append(item)
        return sorted(entries, key=lambda e: e["path"])

    def _tree(self, request, repo, sha, base):
        recursive = request.query.get("recursive") in ("true", "True", "1")
        expand = request.query.get("expand") in ("true", "True", "1")
        entries = self._entries(repo, sha, base, recursive, expand)
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
