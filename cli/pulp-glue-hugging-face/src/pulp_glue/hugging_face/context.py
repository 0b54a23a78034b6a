"""pulp-glue contexts for the Hugging Face plugin: one per REST entity.

HREF and ID_PREFIX are the plugin's OpenAPI names. The endpoints are `hugging-face` (remotes,
repositories, distributions, files), `refs` and `commits`.
"""

import typing as t
from gettext import gettext as _

from pulp_glue.common.context import (
    EntityDefinition,
    PluginRequirement,
    PulpContentContext,
    PulpDistributionContext,
    PulpEntityContext,
    PulpRemoteContext,
    PulpRepositoryContext,
    PulpRepositoryVersionContext,
)
from pulp_glue.common.exceptions import PulpException
from pulp_glue.hugging_face.glue_internals import register_prn_type

PLUGIN = "hugging_face"
RESOURCE_TYPE = "hugging-face"
REQUIRES = [PluginRequirement(PLUGIN)]

_Context = t.TypeVar("_Context", bound=type[PulpEntityContext])


def prn_model(model: str) -> t.Callable[[_Context], _Context]:
    """Register a context under its Django model name, as PRNs spell it.

    pulp-glue derives the model from RESOURCE_TYPE, which is `hugging-face` here.
    """

    def register(cls: _Context) -> _Context:
        register_prn_type(cls, cls.MODEL, model)
        cls.MODEL = model
        return cls

    return register


@prn_model("huggingfacecontent")
class PulpHuggingFaceContentContext(PulpContentContext):
    """One file of one Hub repo at one commit."""

    PLUGIN = PLUGIN
    RESOURCE_TYPE = RESOURCE_TYPE
    ENTITY = _("hugging face file")
    ENTITIES = _("hugging face files")
    HREF = "hugging_face_hugging_face_content_href"
    ID_PREFIX = "content_hugging_face_hugging_face"
    NEEDS_PLUGINS = REQUIRES


@prn_model("huggingfaceref")
class PulpHuggingFaceRefContext(PulpContentContext):
    """A branch, tag or PR ref pinned by sync, and its commit."""

    PLUGIN = PLUGIN
    RESOURCE_TYPE = "refs"
    ENTITY = _("hugging face ref")
    ENTITIES = _("hugging face refs")
    HREF = "hugging_face_hugging_face_ref_href"
    ID_PREFIX = "content_hugging_face_refs"
    NEEDS_PLUGINS = REQUIRES


@prn_model("huggingfacecommit")
class PulpHuggingFaceCommitContext(PulpContentContext):
    """The Hub's repo info at a pinned commit."""

    PLUGIN = PLUGIN
    RESOURCE_TYPE = "commits"
    ENTITY = _("hugging face commit")
    ENTITIES = _("hugging face commits")
    HREF = "hugging_face_hugging_face_commit_href"
    ID_PREFIX = "content_hugging_face_commits"
    NEEDS_PLUGINS = REQUIRES


@prn_model("huggingfaceremote")
class PulpHuggingFaceRemoteContext(PulpRemoteContext):
    """An upstream Hub; `hf_token` is write-only on the server."""

    PLUGIN = PLUGIN
    RESOURCE_TYPE = RESOURCE_TYPE
    ENTITY = _("hugging face remote")
    ENTITIES = _("hugging face remotes")
    HREF = "hugging_face_hugging_face_remote_href"
    ID_PREFIX = "remotes_hugging_face_hugging_face"
    NEEDS_PLUGINS = REQUIRES
    NULLABLES = PulpRemoteContext.NULLABLES | {"hf_token"}
    CAPABILITIES = {"roles": []}


class PulpHuggingFaceRepositoryVersionContext(PulpRepositoryVersionContext):
    """An immutable version of a Hugging Face repository."""

    PLUGIN = PLUGIN
    RESOURCE_TYPE = RESOURCE_TYPE
    HREF = "hugging_face_hugging_face_repository_version_href"
    ID_PREFIX = "repositories_hugging_face_hugging_face_versions"
    NEEDS_PLUGINS = REQUIRES


@prn_model("huggingfacerepository")
class PulpHuggingFaceRepositoryContext(PulpRepositoryContext):
    """Pinned files, refs and commit infos; `sync` pins what the remote's includes name."""

    PLUGIN = PLUGIN
    RESOURCE_TYPE = RESOURCE_TYPE
    ENTITY = _("hugging face repository")
    ENTITIES = _("hugging face repositories")
    HREF = "hugging_face_hugging_face_repository_href"
    ID_PREFIX = "repositories_hugging_face_hugging_face"
    VERSION_CONTEXT = PulpHuggingFaceRepositoryVersionContext
    NULLABLES = PulpRepositoryContext.NULLABLES | {"cache_max_bytes", "cache_max_idle"}
    NEEDS_PLUGINS = REQUIRES
    CAPABILITIES = {"roles": [], "pulpexport": []}


@prn_model("huggingfacedistribution")
class PulpHuggingFaceDistributionContext(PulpDistributionContext):
    """Serves a remote (pull-through) and/or a repository; its base_url is an HF_ENDPOINT."""

    PLUGIN = PLUGIN
    RESOURCE_TYPE = RESOURCE_TYPE
    ENTITY = _("hugging face distribution")
    ENTITIES = _("hugging face distributions")
    HREF = "hugging_face_hugging_face_distribution_href"
    ID_PREFIX = "distributions_hugging_face_hugging_face"
    NEEDS_PLUGINS = REQUIRES
    CAPABILITIES = {"roles": []}

    def preprocess_entity(self, body: EntityDefinition, partial: bool = False) -> EntityDefinition:
        """Turn `version` (a number of `repository`) into `repository_version`; one of the two."""
        body = super().preprocess_entity(body, partial=partial)
        version = body.pop("version", None)
        if version is not None:
            repository_href = body.pop("repository", None)
            if repository_href is None and partial:
                repository_href = (
                    self.entity.get("repository")
                    or (self.entity.get("repository_version") or "").rpartition("versions/")[0]
                )
            if not repository_href:
                raise PulpException(_("--version needs --repository"))
            body["repository_version"] = f"{repository_href}versions/{version}/"
            body["repository"] = None
        elif body.get("repository"):
            body["repository_version"] = None
        return body


class PulpHuggingFaceTokenContext(PulpEntityContext):
    """A Hugging Face token Pulp issued (its secret is in the answer to create only)."""

    ENTITY = _("hugging face token")
    ENTITIES = _("hugging face tokens")
    HREF = "hugging_face_hugging_face_token_href"
    ID_PREFIX = "hugging_face_tokens"
    NEEDS_PLUGINS = REQUIRES
