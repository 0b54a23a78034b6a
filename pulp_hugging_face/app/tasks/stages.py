"""The sync pipeline: pulpcore's declarative stages, with a byte counter after the downloads and
a RemoteArtifact saver that accepts files whose sha256 the Hub does not say in advance."""

from pulpcore.plugin.models import ProgressReport
from pulpcore.plugin.stages import (
    ArtifactDownloader,
    DeclarativeVersion,
    RemoteArtifactSaver,
    Stage,
)

from ..models import CachedFile
from ..pulpcore_internals import is_unsaved, save_remote_artifacts


class ByteCounter(Stage):
    """Reports the bytes of the files the previous stage downloaded, as they go."""

    def __init__(self, first_stage):
        super().__init__()
        self.first_stage = first_stage

    async def run(self):
        async with ProgressReport(
            message="Downloading bytes", code="sync.downloading.bytes"
        ) as report:
            async for batch in self.batches():
                if report.total is None and self.first_stage.bytes_to_download:
                    report.total = self.first_stage.bytes_to_download
                downloaded = sum(
                    d.artifact.size
                    for dc in batch
                    for d in dc.d_artifacts
                    if is_unsaved(d.artifact) and not d.deferred_download
                )
                if downloaded:
                    await report.aincrease_by(downloaded)
                for dc in batch:
                    await self.put(dc)


def _without_sha256(d_content):
    return any(d.artifact.sha256 is None for d in d_content.d_artifacts)


class HubRemoteArtifactSaver(RemoteArtifactSaver):
    """pulpcore's saver, fed so that it never orders RemoteArtifacts lacking a sha256.

    A deferred (`on_demand`, `streamed`) file the Hub names by its git blob sha1 has no sha256
    until it is fetched, and pulpcore sorts each batch's new RemoteArtifacts by sha256: two of
    them in one batch fail the sync. Those files go through one at a time, the rest in batches.
    """

    async def run(self):
        async for batch in self.batches():
            known = [dc for dc in batch if not _without_sha256(dc)]
            if known:
                await save_remote_artifacts(self, known)
            for d_content in batch:
                if _without_sha256(d_content):
                    await save_remote_artifacts(self, [d_content])
            for d_content in batch:
                await self.put(d_content)


class PinSynced(Stage):
    """Files a sync names are pinned: a file pull-through added before is no longer evictable
    (one that sync adds anew is pinned by finalize_new_version)."""

    def __init__(self, repository):
        super().__init__()
        self.repository = repository

    async def run(self):
        async for batch in self.batches():
            pks = [dc.content.pk for dc in batch]
            await CachedFile.objects.filter(
                repository=self.repository, content_id__in=pks
            ).adelete()
            for dc in batch:
                await self.put(dc)


class HubDeclarativeVersion(DeclarativeVersion):
    """pulpcore's pipeline with the byte counter after the downloads, the saver above, and
    synced files pinned."""

    def pipeline_stages(self, new_version):
        stages = super().pipeline_stages(new_version) + [PinSynced(new_version.repository)]
        at = next(n for n, s in enumerate(stages) if isinstance(s, ArtifactDownloader)) + 1
        stages.insert(at, ByteCounter(self.first_stage))
        return [
            (
                HubRemoteArtifactSaver(s.fix_mismatched_remote_artifacts)
                if type(s) is RemoteArtifactSaver
                else s
            )
            for s in stages
        ]
