"""pulp-glue's private names, in one place: what this plugin's glue and CLI reach for past
pulp-glue's public API. `CONTRACT` lists each; tests/test_parts.py checks that the installed
pulp-glue still has every one, naming its version when one is gone."""

import typing as t

from pulp_glue.common.context import EntityDefinition, PulpContext, PulpEntityContext

CONTRACT: tuple[tuple[type, str], ...] = (
    (PulpEntityContext, "PRN_TYPE_REGISTRY"),
    (PulpContext, "_task_finished"),
)


def missing() -> list[str]:
    """The `CONTRACT` names the installed pulp-glue does not have."""
    return [f"{owner.__name__}.{name}" for owner, name in CONTRACT if not hasattr(owner, name)]


def register_prn_type(context: type[PulpEntityContext], old_model: str, model: str) -> None:
    """File `context` in pulp-glue's PRN type registry under `model` instead of `old_model`."""
    registry: dict[str, t.Any] = PulpEntityContext.PRN_TYPE_REGISTRY
    registry.pop(f"{context.PLUGIN}:{old_model}", None)
    registry[f"{context.PLUGIN}:{model}"] = context


def raise_if_failed(pulp_ctx: PulpContext, task: EntityDefinition) -> None:
    """Raise PulpException naming a failed or canceled task's error, as pulp-glue does."""
    pulp_ctx._task_finished(task)
