"""Pulp import/export: one resource per content type, and the repository.

pulpcore's exporter writes each resource of `IMPORT_ORDER` for a repository version and the
importer reads them back in that order. Every unit is matched on its natural key, with
`_pulp_domain` set to the importing domain (`QueryModelResource.before_import_row`), so an
import into another Pulp or domain finds what is already there instead of duplicating it.
"""

import json

from import_export import fields, widgets

from pulpcore.plugin.importexport import BaseContentResource
from pulpcore.plugin.modelresources import RepositoryResource

from .models import HuggingFaceCommit, HuggingFaceContent, HuggingFaceRef, HuggingFaceRepository


class InfoWidget(widgets.Widget):
    """A commit's `info` as JSON text both ways: `{}` included (JSONWidget writes it as null)."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return {}
        return value if isinstance(value, dict) else json.loads(value)

    def render(self, value, obj=None, **kwargs):
        return json.dumps(value if value is not None else {}, sort_keys=True)


class _VersionContentResource(BaseContentResource):
    """Units of one content type held by the exported repository version."""

    def set_up_queryset(self):
        model = self._meta.model
        return model.objects.filter(pk__in=self.repo_version.content).order_by(
            *model.natural_key_fields()
        )


class HuggingFaceContentResource(_VersionContentResource):
    class Meta:
        model = HuggingFaceContent
        import_id_fields = model.natural_key_fields()


class HuggingFaceRefResource(_VersionContentResource):
    class Meta:
        model = HuggingFaceRef
        import_id_fields = model.natural_key_fields()


class HuggingFaceCommitResource(_VersionContentResource):
    info = fields.Field(attribute="info", column_name="info", widget=InfoWidget())

    class Meta:
        model = HuggingFaceCommit
        import_id_fields = model.natural_key_fields()


class HuggingFaceRepositoryResource(RepositoryResource):
    def set_up_queryset(self):
        return HuggingFaceRepository.objects.filter(pk=self.repo_version.repository)

    class Meta:
        model = HuggingFaceRepository


IMPORT_ORDER = [
    HuggingFaceContentResource,
    HuggingFaceRefResource,
    HuggingFaceCommitResource,
    HuggingFaceRepositoryResource,
]
