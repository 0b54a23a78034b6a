"""Replication: an edge Pulp mirrors a central Pulp's Hugging Face distributions.

A central distribution speaks the Hub protocol, so the edge's remote is simply its `base_url`,
and the remote's `includes` are a lock of what the central version pins: each pinned commit with
the refs that point at it. The edge's sync then pins exactly the same commits, refs and files
(the central version's listings name only the files it holds). Files the central repository got
by pull-through alone, with no pinned commit info, are not carried.
"""

from pulp_glue.hugging_face.context import (
    PulpHuggingFaceCommitContext,
    PulpHuggingFaceDistributionContext,
    PulpHuggingFaceRefContext,
    PulpHuggingFaceRepositoryContext,
)

from pulpcore.plugin.replica import Replicator

from .models import HuggingFaceDistribution, HuggingFaceRemote, HuggingFaceRepository
from .tasks import synchronize


class HuggingFaceReplicator(Replicator):
    distribution_ctx_cls = PulpHuggingFaceDistributionContext
    repository_ctx_cls = PulpHuggingFaceRepositoryContext
    app_label = "hugging_face"
    remote_model_cls = HuggingFaceRemote
    repository_model_cls = HuggingFaceRepository
    distribution_model_cls = HuggingFaceDistribution
    distribution_serializer_name = "HuggingFaceDistributionSerializer"
    repository_serializer_name = "HuggingFaceRepositorySerializer"
    remote_serializer_name = "HuggingFaceRemoteSerializer"
    sync_task = synchronize

    def _served_version(self, upstream_distribution):
        if upstream_distribution.get("repository_version"):
            return upstream_distribution["repository_version"]
        repository = self.repository_ctx_cls(self.pulp_ctx, upstream_distribution["repository"])
        return repository.entity["latest_version_href"]

    def remote_extra_fields(self, upstream_distribution, **kwargs):
        """The lock of what the central version pins, as the edge remote's `includes`."""
        if not (
            upstream_distribution.get("repository")
            or upstream_distribution.get("repository_version")
        ):
            return {}
        version = self._served_version(upstream_distribution)
        query = {"repository_version": version}
        refs = {}
        for ref in PulpHuggingFaceRefContext(self.pulp_ctx).list_iterator(parameters=query):
            key = (ref["repo_type"], ref["repo_id"], ref["commit"])
            refs.setdefault(key, []).append(ref["name"])
        commits = PulpHuggingFaceCommitContext(self.pulp_ctx).list_iterator(parameters=query)
        lock = [
            {
                "repo_id": commit["repo_id"],
                "repo_type": commit["repo_type"],
                "revision": commit["commit"],
                "refs": sorted(
                    refs.get((commit["repo_type"], commit["repo_id"], commit["commit"]), [])
                ),
            }
            for commit in commits
        ]
        lock.sort(key=lambda item: (item["repo_type"], item["repo_id"], item["revision"]))
        return {"includes": lock}

    def sync_params(self, repository, remote):
        return {"remote_pk": str(remote.pk), "repository_pk": str(repository.pk), "mirror": True}


REPLICATION_ORDER = [HuggingFaceReplicator]
