"""One cold request, followed from the handler to the bytes (against the fake Hub, with a real
database and storage): it walks down the modules once, calling back into few it already left.
`-s` prints the walk (the figures docs/index.md and the closing note of issue 20 give)."""

import sys
import threading
import uuid

import pytest

from pulp_hugging_face import hub
from pulp_hugging_face.app.handler import HuggingFaceHandler
from pulp_hugging_face.app.models import HuggingFaceDistribution, HuggingFaceRemote

from .request_path import fetch, run, serving

PACKAGE = "pulp_hugging_face."
LEAVES = {"hub", "cache", "models"}  # the grammar, memory and data any step may use
MAX_CALLS_BACK = 8


def module_of(frame):
    name = frame.f_globals.get("__name__", "")
    if not name.startswith(PACKAGE) or ".tests." in name:
        return None
    parts = name.removeprefix(PACKAGE).split(".")
    return parts[1] if parts[0] == "app" and len(parts) > 1 else parts[0]


class Walk:
    """The app modules a request enters, in order, and its calls back: a call into a module the
    request had already left (entered before from another module, not on the calling stack;
    leaves not counted), each (caller, function) once however often it runs (per chunk, say)."""

    def __init__(self):
        self.entered, self.calls_back, self._frames = [], {}, set()
        self._callers = {}  # module -> the module that first called it
        self._lock = threading.Lock()

    def profile(self, frame, event, arg):
        if event != "call" or (module := module_of(frame)) is None:
            return
        with self._lock:
            if frame in self._frames:  # a coroutine resumed, not called
                return
            self._frames.add(frame)
            on_stack, above = [], frame.f_back
            while above is not None:
                if (found := module_of(above)) is not None:
                    on_stack.append(found)
                above = above.f_back
            if module in on_stack:
                return
            caller = on_stack[0] if on_stack else None  # None: a thread or task started it
            first_caller = self._callers.setdefault(module, caller)
            if module not in LEAVES and caller and first_caller not in (caller, None):
                self.calls_back[f"{caller} -> {module}.{frame.f_code.co_qualname}"] = True
            if not self.entered or self.entered[-1] != module:
                self.entered.append(module)

    def __enter__(self):
        sys.setprofile(self.profile)
        threading.setprofile(self.profile)
        return self

    def __exit__(self, *exc):
        sys.setprofile(None)
        threading.setprofile(None)


@pytest.mark.django_db
def test_a_cold_request_walks_down_once(fake_hub, settings, tmp_path):
    settings.WORKING_DIRECTORY, settings.MEDIA_ROOT = str(tmp_path / "w"), str(tmp_path / "m")
    settings.HF_PEER_ADDRESS = None  # one host
    (tmp_path / "w").mkdir()
    body = b"weights" * 50_000
    repo_id = f"org/walk-{uuid.uuid4().hex[:8]}"
    fake_hub.add_repo(repo_id).commit({"model.bin": body})
    remote = HuggingFaceRemote.objects.create(name="up", url=fake_hub.url)
    distro = HuggingFaceDistribution.objects.create(name="d", base_path="d", remote=remote)
    path = hub.parse_url_path(f"{repo_id}/resolve/main/model.bin")

    async def scenario():
        async def answer(request):
            sys.setprofile(walk.profile)  # the event loop's thread
            return await HuggingFaceHandler().serve_file(request, distro, remote, path)

        async with serving(answer) as session:
            return await fetch(session)

    with Walk() as walk:
        status, _, got = run(scenario)
    assert status == 200 and got == body
    print(f"\nmodules passed ({len(set(walk.entered))}): {' > '.join(walk.entered)}")
    print(f"calls back into a module already left ({len(walk.calls_back)}):")
    for call in sorted(walk.calls_back):
        print(f"  {call}")
    assert "downloads" in walk.entered and "storage" in walk.entered  # it was followed
    assert len(walk.calls_back) <= MAX_CALLS_BACK
