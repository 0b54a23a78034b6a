"""pulpcore's declarative sync pipeline, with what Hub files need: bytes progress, and
remote artifacts for files known by their git blob sha1 only."""

from pulpcore.plugin.models import ProgressReport
from pulpcore.plugin.stages import (
    ArtifactDownloader,
    DeclarativeVersion,
    RemoteArtifactSaver,
    Stage,
)


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
                    if d.artifact._state.adding and not d.deferred_download
                )
                if downloaded:
                    await report.aincrease_by(downloaded)
                for dc in batch:
                    await self.put(dc)


class HubRemoteArtifactSaver(RemoteArtifactSaver):
    """pulpcore orders new RemoteArtifacts by sha256, so each needs one; a file the Hub names
    by its git blob sha1 has none before it is downloaded. "" stands for "not known": pulpcore
    checks only digests that are set, and the git blob sha1 is checked when the file comes."""

    @staticmethod
    def _create_remote_artifact(d_artifact, content_artifact):
        remote_artifact = RemoteArtifactSaver._create_remote_artifact(d_artifact, content_artifact)
        remote_artifact.sha256 = remote_artifact.sha256 or ""
        return remote_artifact


class HubDeclarativeVersion(DeclarativeVersion):
    """pulpcore's pipeline with the byte counter after the downloads and our RA saver."""

    def pipeline_stages(self, new_version):
        stages = [
            (
                HubRemoteArtifactSaver(stage.fix_mismatched_remote_artifacts)
                if isinstance(stage, RemoteArtifactSaver)
                else stage
            )
            for stage in super().pipeline_stages(new_version)
        ]
        at = next(n for n, s in enumerate(stages) if isinstance(s, ArtifactDownloader)) + 1
        stages.insert(at, ByteCounter(self.first_stage))
        return stages
