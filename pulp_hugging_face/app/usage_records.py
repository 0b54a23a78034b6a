"""What retention and the usage figures keep in the database (usage.py writes them in batches,
retention.py reads them).

`CachedFile` marks a file a repository got by pull-through (the only kind eviction may take) and
when it was last served; `DistributionUsage` holds a distribution's running totals;
`ServingReport` is what one content process is sending right now (eviction leaves those bytes
alone until it is done); `EvictedArtifact` is an artifact eviction let go of while it was being
sent, freed by the next eviction.
"""

from django.db import models

from pulpcore.plugin.models import Artifact, Content


class CachedFile(models.Model):
    """A file `repository` got by pull-through, and when a client last asked for it."""

    repository = models.ForeignKey("HuggingFaceRepository", on_delete=models.CASCADE)
    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="+")
    served_at = models.DateTimeField()

    class Meta:
        default_related_name = "%(app_label)s_cachedfile"
        unique_together = ("repository", "content")
        indexes = [models.Index(fields=["repository", "served_at"])]


COUNTERS = ("requests", "from_storage", "from_upstream", "bytes_sent", "bytes_fetched")


class DistributionUsage(models.Model):
    """A distribution's totals since it was created (the first five are `COUNTERS`)."""

    distribution = models.OneToOneField(
        "HuggingFaceDistribution", on_delete=models.CASCADE, primary_key=True
    )
    requests = models.BigIntegerField(default=0)
    from_storage = models.BigIntegerField(default=0)
    from_upstream = models.BigIntegerField(default=0)
    bytes_sent = models.BigIntegerField(default=0)
    bytes_fetched = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        default_related_name = "%(app_label)s_usage"


class ServingReport(models.Model):
    """The artifacts one content process (`name`, as its AppStatus) is sending, as of
    `flushed_at`."""

    name = models.TextField(primary_key=True)
    artifacts = models.JSONField(default=list)
    flushed_at = models.DateTimeField()


class EvictedArtifact(models.Model):
    """An artifact no content holds any more, kept by eviction while a client was sent it."""

    artifact = models.OneToOneField(Artifact, on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField(auto_now_add=True)
