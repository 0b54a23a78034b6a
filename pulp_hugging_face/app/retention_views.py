"""The REST actions of cache retention: `POST {repository_href}evict/` and
`GET {distribution_href}stats/`."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from pulpcore.plugin.serializers import AsyncOperationResponseSerializer
from pulpcore.plugin.tasking import dispatch
from pulpcore.plugin.viewsets import OperationPostponedResponse

from . import tasks
from .access_policies import perm
from .models import DistributionUsage, HuggingFaceRepository
from .serializers import DistributionStatsSerializer
from .usage_records import COUNTERS


class EvictSerializer(serializers.Serializer):
    """Nothing to say: the repository's own limits decide."""


EVICT_STATEMENT = {
    "action": ["evict"],
    "principal": "authenticated",
    "effect": "allow",
    "condition": [
        "has_model_or_domain_or_obj_perms:" + perm("huggingfacerepository", "modify"),
        "has_model_or_domain_or_obj_perms:" + perm("huggingfacerepository", "view"),
    ],
}

STATS_STATEMENT = {"action": ["stats"], "principal": "authenticated", "effect": "allow"}


class EvictAction:
    """`POST {repository_href}evict/`: evict now what the repository's limits say."""

    @extend_schema(
        description="Evict the pulled-through files beyond the repository's cache_max_bytes "
        "(least recently served first) or idle longer than its cache_max_idle, and free their "
        "storage.",
        summary="Evict pulled-through files",
        request=EvictSerializer,
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=EvictSerializer)
    def evict(self, request, pk, **kwargs):
        repository = self.get_object()
        serializer = EvictSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = dispatch(
            tasks.evict,
            exclusive_resources=[repository],
            kwargs={"repository_pk": str(repository.pk)},
        )
        return OperationPostponedResponse(result, request)


class StatsAction:
    """`GET {distribution_href}stats/`: what the distribution served, and from where."""

    @extend_schema(
        description="Requests, files answered from storage and from upstream, bytes sent and "
        "fetched upstream (the content apps write them every few seconds), and what the "
        "repository keeping its pulled-through files evicted.",
        summary="Usage figures",
        responses={200: DistributionStatsSerializer},
    )
    @action(detail=True, methods=["get"], serializer_class=DistributionStatsSerializer)
    def stats(self, request, pk, **kwargs):
        distro = self.get_object()
        figures = dict.fromkeys(COUNTERS, 0)
        found = DistributionUsage.objects.filter(distribution=distro).values(*COUNTERS).first()
        figures.update(found or {})
        repository_pk = distro.repository_id or distro.cache_repository_id
        repository = HuggingFaceRepository.objects.filter(pk=repository_pk).first()
        figures["evicted_files"] = repository.cache_evicted_files if repository else 0
        figures["evicted_bytes"] = repository.cache_evicted_bytes if repository else 0
        figures["repository"] = repository.name if repository else None
        return Response(DistributionStatsSerializer(figures).data)
